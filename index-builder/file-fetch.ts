/** A `fetch` for `file:` URLs, so Node code (benchmarks, the eval CLI, tests) opens a built index the
 * way the browser does, through the same checksum-verifying shard and range sources. A `Range: bytes=a-b`
 * request reads only those bytes from disk, as a static server would, so a big file is never read whole. */
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface Span {
  first: number;
  last: number;
}

export const fileFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.protocol !== 'file:') throw new Error(`fileFetch only reads file: URLs, got ${url.protocol}`);
  const span = requestedSpan(new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined)));
  try {
    return span ? await readSpan(fileURLToPath(url), span) : new Response(await readFile(fileURLToPath(url)));
  } catch {
    return new Response(null, { status: 404 });
  }
};

/** Only the form the range source sends; any other Range header is ignored, as HTTP lets a server do. */
function requestedSpan(headers: Headers): Span | undefined {
  const match = /^bytes=(\d+)-(\d+)$/.exec(headers.get('range')?.trim() ?? '');
  if (!match) return undefined;
  const span = { first: Number(match[1]), last: Number(match[2]) };
  return Number.isSafeInteger(span.last) && span.first <= span.last ? span : undefined;
}

async function readSpan(path: string, { first, last }: Span): Promise<Response> {
  const file = await open(path);
  try {
    const { size } = await file.stat();
    if (first >= size) return new Response(null, { status: 416, headers: { 'Content-Range': `bytes */${size}` } });
    const end = Math.min(last, size - 1);
    const bytes = await readAt(file, first, end - first + 1);
    return new Response(bytes, { status: 206, headers: { 'Content-Range': `bytes ${first}-${end}/${size}` } });
  } finally {
    await file.close();
  }
}

async function readAt(file: FileHandle, position: number, length: number): Promise<Uint8Array<ArrayBuffer>> {
  const bytes = new Uint8Array(length);
  let filled = 0;
  // A read may return fewer bytes than asked; none means the file shrank since it was measured, and the
  // short body is the caller's to notice, as it would be from a server.
  while (filled < length) {
    const { bytesRead } = await file.read(bytes, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return bytes.subarray(0, filled);
}
