/**
 * Embeddings from any server that speaks OpenAI's `POST /v1/embeddings` (`{model, input: [...]}` in,
 * `{data: [{index, embedding}], model, usage}` out): Hugging Face text-embeddings-inference, vLLM,
 * llama.cpp's llama-server, Ollama, Infinity, one GPU box or a fleet behind one URL. The builder runs many
 * batches at once with retries; a page or the eval CLI embeds one query in a short, bounded request.
 * Every answer is checked (shape, count, dimension) before a vector is kept. Node and browser alike.
 */
import { z } from 'zod';
import type { EmbedKind, Embedder } from '../core/agent/embedder.ts';
import type { EmbedderSpec } from '../core/index/index-manifest.ts';
import { BodyTooLargeError, readBoundedText } from '../core/util/bounded-body.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { readHttpUrl, type UrlField } from '../core/util/http-url.ts';
import { retryableStatus, retryAfterMs, retryDelayMs, type RetryPolicy } from '../core/util/retry.ts';
import { serverErrorText } from '../core/util/server-error.ts';

export interface OpenAiEmbedderOptions {
  /** The server, with or without `/v1`: `http://gpu-box:8080` or `http://gpu-box:8080/v1`. */
  baseUrl: string;
  /** The model name the server knows (`intfloat/e5-large-v2`, `nomic-embed-text`, …). */
  model: string;
  /** Sent as a bearer token; never written to the manifest. */
  apiKey?: string;
  /** The dimension the user expects; the server's first answer must agree. */
  dimension?: number;
  /** Put before every query / passage, for models trained with them (e5: `query: `, `passage: `). */
  queryPrefix?: string;
  passagePrefix?: string;
  /** Requests in flight at once (the builder's batches). */
  concurrency?: number;
  /** One request, retries aside. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  fetch?: typeof fetch;
  /** How retries wait (tests shorten it). */
  sleep?: (ms: number) => Promise<void>;
  /** Hears each retry, to show why the build slowed down. */
  onRetry?: (why: string, delayMs: number) => void;
}

/** A build's request: a large batch on a busy GPU can take a while. */
const BUILD_TIMEOUT_MS = 120_000;
const BUILD_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 60_000 };

/** A query's request: the user is waiting for the search, so fail soon and say why. */
export const QUERY_OPTIONS = { timeoutMs: 15_000, retry: { attempts: 2, baseDelayMs: 300, maxDelayMs: 2_000 } } satisfies Partial<OpenAiEmbedderOptions>;

/** The first request only learns the dimension and checks the model: a server that is down says so at once. */
const PROBE_ATTEMPTS = 2;

/** A number as JSON writes it takes at most ~25 bytes; the rest is room for the envelope. */
const BYTES_PER_NUMBER = 32;
const MAX_DIMENSION = 4096;

const EmbeddingsResponse = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
});

const SERVER_URL: UrlField = { what: 'embedding server URL', example: 'http://127.0.0.1:8080/v1' };

/** The base URL as recorded in a manifest: checked, no credentials, no query, no trailing slash. */
export function embeddingServerUrl(raw: string): string {
  const read = readHttpUrl(raw, SERVER_URL);
  if ('problem' in read) throw new Error(read.problem);
  const { url } = read;
  // The URL goes into the manifest, which is published with the index: a key in it would be too.
  if (url.username || url.password) throw new Error('The embedding server URL must not contain a user name or password: give a key in the environment instead.');
  if (url.search || url.hash) throw new Error(`The embedding server URL "${raw}" must not have a query or fragment.`);
  return url.href.replace(/\/+$/, '').replace(/\/embeddings$/, '');
}

/**
 * Where embeddings may be: `{base}/embeddings` when the base ends in `/v1`, else `{base}/v1/embeddings`
 * first, then `{base}/embeddings` (Infinity serves it there unless started with a `/v1` prefix).
 */
function endpointCandidates(base: string): string[] {
  return /\/v1$/.test(base) ? [`${base}/embeddings`] : [`${base}/v1/embeddings`, `${base}/embeddings`];
}


export class OpenAiEmbedder implements Embedder {
  private dimensionSeen: number;

  private constructor(
    private readonly options: OpenAiEmbedderOptions,
    private readonly endpoint: string,
    readonly id: string,
    dimension: number,
  ) {
    this.dimensionSeen = dimension;
  }

  /** Asks the server once (the dimension, and whether it knows the model), then embeds on demand. */
  static async connect(options: OpenAiEmbedderOptions): Promise<OpenAiEmbedder> {
    const base = embeddingServerUrl(options.baseUrl);
    const model = options.model.trim();
    if (!model) throw new Error('name the embedding model the server runs (--model)');
    let lastMissing = '';
    for (const endpoint of endpointCandidates(base)) {
      const probe = new OpenAiEmbedder({ ...options, model, retry: { ...options.retry, attempts: Math.min(PROBE_ATTEMPTS, options.retry?.attempts ?? PROBE_ATTEMPTS) } }, endpoint, openAiEmbedderId(model, options.passagePrefix), 0);
      const answer = await probe.request(['dimension probe']).catch((error: unknown) => {
        if (error instanceof MissingEndpoint) return error;
        throw error;
      });
      if (answer instanceof MissingEndpoint) {
        lastMissing = answer.message;
        continue;
      }
      const dimension = answer[0]?.length ?? 0;
      if (options.dimension !== undefined && dimension !== options.dimension) {
        throw new Error(`the model ${model} at ${base} returns ${dimension}-dimensional vectors, but --dimension says ${options.dimension}`);
      }
      return new OpenAiEmbedder({ ...options, model }, endpoint, probe.id, dimension);
    }
    throw new Error(`${base} serves no embeddings endpoint (${lastMissing}): is it an OpenAI-compatible server, started with embeddings on?`);
  }

  get dimension(): number {
    return this.dimensionSeen;
  }

  get parallelism(): number {
    return Math.max(1, Math.floor(this.options.concurrency ?? 1));
  }

  async embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]> {
    if (!texts.length) return [];
    const prefix = (kind === 'query' ? this.options.queryPrefix : this.options.passagePrefix) ?? '';
    return this.request(texts.map((text) => prefix + text));
  }

  async dispose(): Promise<void> {}

  /** One batch, retried as the policy allows; its vectors in input order, unit length. */
  private async request(input: readonly string[]): Promise<Float32Array[]> {
    const policy = { ...BUILD_RETRY, ...this.options.retry };
    const sleep = this.options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(input);
      if (!('retry' in outcome)) return outcome.vectors;
      if (attempt >= policy.attempts) throw new Error(`could not embed at ${this.endpoint} after ${attempt} attempts: ${outcome.retry}`);
      const delay = retryDelayMs(policy, attempt, outcome.retryAfter);
      this.options.onRetry?.(outcome.retry, delay);
      await sleep(delay);
    }
  }

  private async attempt(input: readonly string[]): Promise<{ vectors: Float32Array[] } | { retry: string; retryAfter: number | null }> {
    let response: Response;
    try {
      response = await (this.options.fetch ?? globalThis.fetch)(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey && { authorization: `Bearer ${this.options.apiKey}` }) },
        body: JSON.stringify({ model: this.options.model, input, encoding_format: 'float' }),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? BUILD_TIMEOUT_MS),
      });
    } catch (error) {
      return { retry: `could not reach the embedding server (${networkCause(error)})`, retryAfter: null };
    }
    if (response.status === 404 || response.status === 405) {
      const text = await serverErrorText(response);
      // A 404 that names the model is the server refusing it, not a missing route.
      if (!/model/i.test(text)) throw new MissingEndpoint(`${this.endpoint} answered HTTP ${response.status}`);
      throw new Error(`the embedding server refused the model "${this.options.model}": ${text}`);
    }
    if (!response.ok) {
      const text = `HTTP ${response.status}: ${await serverErrorText(response)}`;
      if (retryableStatus(response.status)) return { retry: text, retryAfter: retryAfterMs(response.headers.get('retry-after')) };
      throw new Error(`${this.endpoint} refused the request (model "${this.options.model}"): ${text}`);
    }
    let body: string;
    try {
      body = await readBoundedText(response, input.length * (this.dimensionSeen || MAX_DIMENSION) * BYTES_PER_NUMBER + 65_536, `the answer of ${this.endpoint}`);
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw error;
      // The body broke off (a timeout, a dropped connection): the batch is worth another try.
      return { retry: `the answer broke off (${networkCause(error)})`, retryAfter: null };
    }
    return { vectors: this.vectors(body, input.length) };
  }

  /** The answer's vectors, checked: one per input, each once, all of the dimension seen so far. */
  private vectors(body: string, count: number): Float32Array[] {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new Error(`${this.endpoint} did not answer JSON: ${JSON.stringify(body.slice(0, 120))}`);
    }
    const parsed = EmbeddingsResponse.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${this.endpoint} answered in an unexpected shape (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'no data'}); expected {data: [{index, embedding: [numbers]}]}`);
    }
    const { data } = parsed.data;
    if (data.length !== count) throw new Error(`${this.endpoint} returned ${data.length} embeddings for ${count} texts`);
    const out: Float32Array[] = new Array<Float32Array>(count);
    for (const { index, embedding } of data) {
      if (index >= count || out[index]) throw new Error(`${this.endpoint} returned embedding index ${index} twice or out of range (${count} texts)`);
      out[index] = this.unitVector(embedding);
    }
    return out;
  }

  private unitVector(values: readonly number[]): Float32Array {
    if (this.dimensionSeen === 0) {
      if (values.length < 1 || values.length > MAX_DIMENSION) throw new Error(`${this.endpoint} returned a ${values.length}-dimensional vector (1 to ${MAX_DIMENSION} allowed)`);
      this.dimensionSeen = values.length;
    }
    if (values.length !== this.dimensionSeen) {
      throw new Error(`the embedding server changed dimension between batches: ${this.dimensionSeen} before, ${values.length} now (several models behind one URL?)`);
    }
    let sum = 0;
    for (const v of values) sum += v * v;
    const norm = Math.sqrt(sum);
    if (!(norm > 0) || !Number.isFinite(norm)) throw new Error(`${this.endpoint} returned a vector of length ${norm}, which cannot be normalised`);
    return Float32Array.from(values, (v) => v / norm);
  }
}

/** The route is not there (a 404 that does not name the model): the next candidate may be. */
class MissingEndpoint extends Error {}

/** The manifest's id: the model, and the passage prefix when there is one (it changes every vector). */
export function openAiEmbedderId(model: string, passagePrefix?: string): string {
  return `openai:${model.trim()}${passagePrefix ? ` passage-prefix=${JSON.stringify(passagePrefix)}` : ''}`;
}

/** Node's fetch hides why in `cause` ("connect ECONNREFUSED 127.0.0.1:8080"). */
function networkCause(error: unknown): string {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  return cause || errorMessage(error);
}

export type OpenAiEmbedderSpec = Extract<EmbedderSpec, { kind: 'openai' }>;

/** The manifest's record of a connected embedder: what a query embedder needs to embed as the passages were. */
export function openAiSpec(embedder: OpenAiEmbedder, options: Pick<OpenAiEmbedderOptions, 'baseUrl' | 'model' | 'queryPrefix' | 'passagePrefix'>): OpenAiEmbedderSpec {
  const { queryPrefix, passagePrefix } = options;
  return { kind: 'openai', id: embedder.id, model: options.model.trim(), dimension: embedder.dimension, baseUrl: embeddingServerUrl(options.baseUrl), ...(queryPrefix && { queryPrefix }), ...(passagePrefix && { passagePrefix }) };
}

/** The query embedder of an index whose passages a server embedded: the same server, model and prefixes,
 * in short bounded requests. */
export function connectQueryEmbedder(spec: OpenAiEmbedderSpec, options: Pick<OpenAiEmbedderOptions, 'apiKey' | 'fetch'> = {}): Promise<OpenAiEmbedder> {
  const { baseUrl, model, dimension, queryPrefix, passagePrefix } = spec;
  return OpenAiEmbedder.connect({ baseUrl, model, dimension, ...(queryPrefix && { queryPrefix }), ...(passagePrefix && { passagePrefix }), ...QUERY_OPTIONS, ...options });
}
