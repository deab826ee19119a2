/**
 * Is there a GGUF file at this URL? Answered from its first bytes, before a download or a load: a typo,
 * a 404, an HTML page or an unreachable host must not cost the user the model they have loaded.
 */
import { EngineError } from '../core/agent/engine.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { looksLikeWebPage, webPageMessage } from '../core/util/web-page.ts';

/** Enough to read the magic, and to tell an HTML page by its doctype. */
export const HEAD_BYTES = 64;

/** Null when `head` opens a GGUF file; otherwise why the file at `url` is not one. */
export function notGgufProblem(head: Uint8Array, url: string): string | null {
  const text = new TextDecoder('latin1').decode(head);
  if (text.startsWith('GGUF')) return null;
  const name = fileName(url);
  // Read as UTF-8 (which drops a byte-order mark) to tell a page.
  if (looksLikeWebPage(new TextDecoder().decode(head))) {
    const hint = url.includes('huggingface.co') && url.includes('/blob/') ? ' On Hugging Face, use the /resolve/ link, not /blob/.' : '';
    return `${name}: ${webPageMessage('a GGUF file')}.${hint}`;
  }
  if (head.length === 0) return `${name} is empty, not a GGUF file.`;
  const magic = text.slice(0, 4);
  const shown = /^[\x20-\x7e]*$/.test(magic) ? JSON.stringify(magic) : `bytes ${[...magic].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ')}`;
  return `${name} is not a GGUF file (it starts with ${shown}).`;
}

/** Why a model could not be fetched, in the user's words; offline, the network is the whole story. */
export function unreachableMessage(url: string, reason: string, online: boolean = globalThis.navigator?.onLine ?? true): string {
  if (!online) return `This browser is offline and ${fileName(url)} is not stored in it: connect to the network to download it.`;
  return `Could not download ${url}: ${reason}. Check the URL, and that its server allows this page (CORS).`;
}

/**
 * Fetches the first bytes of `url` (a Range request; a server that ignores it is read no further) and
 * throws an EngineError unless they open a GGUF file.
 */
export async function probeGguf(url: string, fetchFile: typeof fetch = fetch): Promise<void> {
  let response: Response;
  try {
    response = await fetchFile(url, { headers: { Range: `bytes=0-${HEAD_BYTES - 1}` } });
  } catch (error) {
    throw new EngineError(unreachableMessage(url, errorMessage(error)));
  }
  if (!response.ok) throw new EngineError(`Could not download ${url}: HTTP ${response.status}. Check the URL.`);
  const problem = notGgufProblem(await firstBytes(response, HEAD_BYTES), url);
  if (problem) throw new EngineError(problem);
}

/** Up to `n` bytes of a body, without reading the rest. */
async function firstBytes(response: Response, n: number): Promise<Uint8Array> {
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array();
  const head = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const { done, value } = await reader.read();
    if (done) break;
    const part = value.subarray(0, n - filled);
    head.set(part, filled);
    filled += part.length;
  }
  await reader.cancel().catch(() => undefined);
  return head.subarray(0, filled);
}

export function fileName(url: string): string {
  const last = new URL(url).pathname.split('/').pop() || url;
  try {
    return decodeURIComponent(last);
  } catch {
    return last; // malformed percent-encoding: show it as it is
  }
}
