/**
 * A server-side index as the agent's Retriever, through the retrieval-server protocol of Search-R1
 * (`search_r1/search/retrieval_server.py`, which its agent and FlashRAG-style corpora share):
 *
 *   POST /retrieve  {"queries": ["…"], "topk": k, "return_scores": true}
 *   →  {"result": [[{"document": {"id": "…", "contents": "\"Title\"\ntext…"}, "score": 0.83}, …]]}
 *
 * `contents` is the corpus row's text: its first line is the title (Search-R1's wiki-18 corpus quotes
 * it, and its BM25 path strips the quotes), the rest is the passage. Some rows carry `title` and `text`
 * too; a server that ignores `return_scores` sends the documents bare. The answer is untrusted: read
 * with a byte bound, parsed with zod, every text cut to a bound. The passages keep the server's order:
 * its index decides what "best" is (an L2 index scores by ascending distance).
 */
import { z } from 'zod';
import type { Passage, Retriever } from '../core/agent/retriever.ts';
import { BodyTooLargeError, readBoundedText } from '../core/util/bounded-body.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { readHttpUrl } from '../core/util/http-url.ts';
import { sha256Hex } from './checksum.ts';

/** A search over a GPU flat index answers in tens of milliseconds; one this late is a stuck server. */
export const REMOTE_TIMEOUT_MS = 20_000;
/** Twenty 512-word passages are about 80 KB; anything near this is not an answer to one query. */
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** Longer than any passage a corpus is chunked into; the agent trims passages to tokens anyway. */
const MAX_TEXT_CHARS = 20_000;
const MAX_TITLE_CHARS = 500;
/** More hits than any top-k asks for; a longer list is cut, never read whole into passages. */
const MAX_HITS = 1_000;

const Id = z.union([z.string().max(500), z.number()]).transform(String);
const Doc = z
  .object({ id: Id.optional(), contents: z.string().optional(), title: z.string().optional(), text: z.string().optional() })
  .refine((doc) => doc.contents !== undefined || doc.text !== undefined, 'a document needs "contents" or "text"');
/** A hit, or a bare document from a server that ignores `return_scores`. */
const Hit = z.preprocess(
  (hit) => (typeof hit === 'object' && hit !== null && 'document' in hit ? hit : { document: hit }),
  z.object({ document: Doc, score: z.number().finite().optional() }),
);
const Answer = z.object({ result: z.array(z.array(Hit).max(MAX_HITS)).min(1, 'the answer holds no result list') });

export interface RemoteRetrieverOptions {
  timeoutMs?: number;
  /** Node's or the page's fetch; a test's. */
  fetch?: typeof fetch;
}

/** The `/retrieve` endpoint a user's URL names: the server (`http://host:8000`) or the endpoint itself. */
export function retrieveEndpoint(raw: string): string {
  const read = readHttpUrl(raw, { what: 'retrieval server URL', example: 'http://127.0.0.1:8000' });
  if ('problem' in read) throw new Error(read.problem);
  const url = read.url;
  url.hash = '';
  if (!/\/retrieve\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/retrieve`;
  return url.href;
}

export class RemoteRetriever implements Retriever {
  readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(url: string, options: RemoteRetrieverOptions = {}) {
    this.endpoint = retrieveEndpoint(url);
    this.timeoutMs = options.timeoutMs ?? REMOTE_TIMEOUT_MS;
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async search(query: string, k: number, signal?: AbortSignal): Promise<Passage[]> {
    signal?.throwIfAborted();
    // Our own timer, so a timeout reads differently from the user's cancel (which the agent reports itself).
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), this.timeoutMs);
    const both = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    try {
      const body = await this.post(query, k, both);
      return await passagesOf(body, k, this.endpoint);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timer.signal.aborted) throw new Error(`the retrieval server at ${this.endpoint} did not answer within ${this.timeoutMs / 1000} s`);
      throw error;
    } finally {
      clearTimeout(timeout);
    }
  }

  private async post(query: string, k: number, signal: AbortSignal): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetch(this.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ queries: [query], topk: k, return_scores: true }),
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      // A browser says only "Failed to fetch" for a server that is down and for one that refuses this
      // page's origin (CORS) alike.
      throw new Error(`could not reach the retrieval server at ${this.endpoint} (${errorMessage(error)}): is it running, and does it allow this page's origin (CORS)?`);
    }
    const text = await readBoundedText(response, MAX_RESPONSE_BYTES, 'the answer').catch((error: unknown) => {
      throw error instanceof BodyTooLargeError ? new Error(`the retrieval server at ${this.endpoint} sent more than ${MAX_RESPONSE_BYTES / 2 ** 20} MB for one query`) : error;
    });
    if (!response.ok) throw new Error(`the retrieval server at ${this.endpoint} answered HTTP ${response.status}: ${text.slice(0, 200) || response.statusText}`);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new Error(`the retrieval server at ${this.endpoint} did not answer with JSON: is it a Search-R1 / FlashRAG retrieval server?`);
    }
  }
}

async function passagesOf(body: unknown, k: number, endpoint: string): Promise<Passage[]> {
  const parsed = Answer.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new Error(`the retrieval server at ${endpoint} answered in a shape it should not (${where}${issue?.message ?? 'invalid'}): it should follow Search-R1's /retrieve protocol`);
  }
  const hits = (parsed.data.result[0] ?? []).slice(0, k);
  return Promise.all(hits.map(({ document, score }, rank) => passageOf(document, score ?? hits.length - rank)));
}

async function passageOf(doc: z.infer<typeof Doc>, score: number): Promise<Passage> {
  const fromContents = splitContents(doc.contents ?? '');
  const title = clean(doc.title ?? fromContents.title, MAX_TITLE_CHARS);
  const text = clean(doc.text ?? fromContents.text, MAX_TEXT_CHARS);
  // Without an id, the builder's own: a hash of title and text, the same for the same passage.
  const id = doc.id ?? (await sha256Hex(new TextEncoder().encode(`${title}\u0000${text}`))).slice(0, 16);
  return { id, title, text, score };
}

/** `"Title"\ntext` as Search-R1's agent reads it: the first line is the title; one line is all text. */
function splitContents(contents: string): { title: string; text: string } {
  const end = contents.indexOf('\n');
  if (end < 0) return { title: '', text: contents };
  return { title: contents.slice(0, end).replace(/^"(.*)"$/, '$1'), text: contents.slice(end + 1) };
}

/** Control characters dropped (tabs and newlines kept), cut to `max`. Tags and chat-template markers are
 * neutralised where every passage, local or remote, enters a prompt (src/core/agent/prompts.ts). */
function clean(text: string, max: number): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '').trim().slice(0, max);
}
