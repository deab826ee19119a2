/**
 * The wllama engine: llama.cpp compiled to WebAssembly (`@wllama/wllama`), running a GGUF file on the CPU
 * or on WebGPU. It is the engine for browsers without a usable GPU, and the one the browser tests run.
 *
 * We use `createChatCompletion` rather than raw `createCompletion`: wllama 3 is llama-server's own request
 * layer, so the chat call renders the GGUF's Jinja template (with `enable_thinking`), and takes stop strings,
 * GBNF grammar, log-probabilities, usage and timings in one request, exactly as a llama-server would. Raw
 * completion would make us re-implement the Qwen3 template by hand.
 */
import {
  CacheManager,
  LogLevel,
  ModelManager,
  Wllama,
  type ChatCompletionChunk,
  type ChatCompletionParams,
  type LoadModelParams,
  type Model,
  type ResultTimings,
  type WllamaCompat,
  type WllamaLogger,
} from '@wllama/wllama/esm/index.js';
// Served from our own origin (Vite emits it as an asset); wllama's default would be a CDN.
import wllamaWasmUrl from '@wllama/wllama/esm/wasm/wllama.wasm?url';
import { DEFAULT_WLLAMA_MODEL_URL } from './defaults.ts';
import { detectGpu } from './webgpu.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { readHttpUrl, type UrlField } from '../core/util/http-url.ts';
import { explainQuota, mb } from '../storage/quota.ts';
import { classifyWllamaError, generateError, loadError } from './wllama-failure.ts';
import { fileName, HEAD_BYTES, notGgufProblem, probeGguf } from './gguf-source.ts';
import { isStored, recordReceivedSizes } from './wllama-store.ts';
import { ChatStream, commonChatFields, type Usage } from './chat-stream.ts';
import {
  EngineError,
  type EngineCapabilities,
  type GenerateRequest,
  type GenerateResult,
  type LlmEngine,
} from '../core/agent/engine.ts';
import type { LoadProgress } from '../core/util/load-progress.ts';


/** `auto` picks WebGPU only on a real (non-fallback) GPU adapter with JSPI; otherwise the CPU. */
export type WllamaDevice = 'auto' | 'cpu' | 'webgpu';

export interface WllamaEngineOptions {
  /** A `.gguf` URL (absolute, or relative to the page); split models: the `-00001-of-0000N.gguf` shard. */
  modelUrl?: string;
  device?: WllamaDevice;
  /** Threads need SharedArrayBuffer (a cross-origin-isolated page); default: 1 without it. */
  threads?: number;
  /** Context window in tokens, shared by all requests (default 4096). */
  contextSize?: number;
  /** Keep the download in the browser's storage (OPFS) for the next load; default true. */
  useCache?: boolean;
  onProgress?: (progress: LoadProgress) => void;
  /** Cancels the download. */
  signal?: AbortSignal;
  seed?: number;
  /** Override the wasm URL (default: the file from the npm package, bundled by Vite). */
  wasmUrl?: string;
  /**
   * A self-hosted `@wllama/wllama-compat` build for browsers without JSPI or Memory64 (Safari). Default
   * null: wllama's own default would fetch it from a CDN, which this app never does.
   */
  compat?: WllamaCompat | null;
  /** Forward llama.cpp's native log and wllama's debug messages to the console. */
  verbose?: boolean;
}

const DEFAULT_CONTEXT = 4096;

export class WllamaEngine implements LlmEngine {
  readonly capabilities: EngineCapabilities = { grammar: true, logprobs: true };

  private constructor(
    private readonly wllama: Wllama,
    readonly label: string,
    readonly device: 'cpu' | 'webgpu',
  ) {}

  /** Downloads (or reads from cache) and loads a GGUF; failures a user should read are EngineErrors. */
  static async load(options: WllamaEngineOptions = {}): Promise<WllamaEngine> {
    const url = validateModelUrl(options.modelUrl ?? DEFAULT_WLLAMA_MODEL_URL);
    requireMemory64(options.compat);
    const device = await pickDevice(options.device ?? 'auto');
    const report = options.onProgress ?? (() => {});
    const wllama = createWllama(options);
    try {
      const model = await download(wllama, url, options, report);
      report({ text: `loading ${fileName(url)} into memory (${device === 'cpu' ? 'CPU' : 'WebGPU'})` });
      await loadDownloaded(wllama, model, url, loadParams(options, device));
    } catch (error) {
      await wllama.exit().catch(() => {});
      throw loadError(error, url, fileName(url));
    }
    report({ text: 'model ready', fraction: 1 });
    return new WllamaEngine(wllama, `wllama · ${fileName(url)} · ${device === 'cpu' ? 'CPU' : 'WebGPU'}`, device);
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (!request.logprobs) return this.run(request, request.onText);
    // wllama 3.8.1 fails the whole request when a reported token (or a top alternative) is a byte-level
    // piece that is not valid UTF-8 on its own (its JSON encoder throws). So hold the text back until the
    // attempt succeeds, and on failure generate again without logprobs (the interface makes them optional).
    try {
      const result = await this.run(request, undefined);
      if (result.text) request.onText?.(result.text);
      return result;
    } catch {
      return this.run({ ...request, logprobs: false }, request.onText);
    }
  }

  private async run(request: GenerateRequest, onText: ((delta: string) => void) | undefined): Promise<GenerateResult> {
    const reply = new ChatStream(onText);
    let timings: ResultTimings | undefined;
    // Token counts from llama.cpp's timings, for a stream cut off before its usage chunk.
    const fallback = (): Partial<Usage> => (timings ? { promptTokens: timings.cache_n + timings.prompt_n, completionTokens: timings.predicted_n } : {});
    if (request.signal?.aborted) return reply.result('abort');
    const onData = (chunk: ChatCompletionChunk): void => {
      reply.add(chunk);
      if (!chunk.timings) return;
      timings = chunk.timings;
      reply.setTimings({ prefillMs: timings.prompt_ms, decodeMs: timings.predicted_ms });
    };
    try {
      await this.wllama.createChatCompletion({ ...chatBody(request), stream: true, onData });
    } catch (error) {
      if (classifyWllamaError(error) === 'cancelled' || request.signal?.aborted) return reply.result('abort', fallback());
      throw generateError(error);
    }
    return reply.result(undefined, fallback());
  }

  async unload(): Promise<void> {
    await this.wllama.exit();
  }
}

/** Checks a model URL before any download, so a typo gets a clear message rather than a fetch error. */
export function validateModelUrl(raw: string, base: string | undefined = globalThis.location?.href): string {
  const read = readHttpUrl(raw, MODEL_URL, base);
  if ('problem' in read) throw new EngineError(read.problem);
  const { url } = read;
  if (!url.pathname.endsWith('.gguf')) {
    throw new EngineError(`The model URL must point to a .gguf file (the path ends in "${fileName(url.href)}").`);
  }
  url.hash = ''; // wllama accepts `.gguf` or `.gguf?query`, not a fragment
  return url.href;
}

/**
 * The checks run before the loaded model is let go: a valid URL, and either the model stored in this
 * browser (no network needed) or a GGUF file at the URL (its first bytes, not the download).
 */
export async function checkModelSource(raw: string): Promise<void> {
  const url = validateModelUrl(raw);
  if (!(await isModelStored(url))) await probeGguf(url);
}

/** Whether the model loads from this browser's store alone (wllama's OPFS cache), without a download. */
export async function isModelStored(raw: string): Promise<boolean> {
  const url = validateModelUrl(raw);
  try {
    return await isStored(new CacheManager(), ModelManager.parseModelUrl(url));
  } catch {
    return false; // no OPFS (an insecure context): nothing is stored
  }
}

const MODEL_URL: UrlField = { what: 'model URL', example: 'https://…/model.gguf' };

function createWllama(options: WllamaEngineOptions): Wllama {
  try {
    const wllama = new Wllama(
      { default: options.wasmUrl ?? wllamaWasmUrl },
      { suppressNativeLog: !options.verbose, logger: options.verbose ? console : QUIET_LOGGER, allowOffline: true },
    );
    wllama.setCompat(options.compat ?? null);
    return wllama;
  } catch (error) {
    // e.g. no storage backend (OPFS needs a secure context: https or localhost)
    throw new EngineError(`wllama cannot start in this browser: ${errorMessage(error)}`);
  }
}

/** wllama's debug log is chatty; keep its warnings and errors. */
const QUIET_LOGGER: WllamaLogger = { debug: () => {}, log: () => {}, warn: console.warn, error: console.error };

/** wllama's main build needs wasm Memory64; without it only a (self-hosted) compat build runs. */
function requireMemory64(compat: WllamaCompat | null | undefined): void {
  if (compat || supportsMemory64()) return;
  throw new EngineError(
    'This browser lacks WebAssembly Memory64, which wllama needs (Safari, older browsers). Use a recent Chrome, Edge or Firefox, or the HTTP engine.',
  );
}

function supportsMemory64(): boolean {
  try {
    // `address: 'i64'` is not in TypeScript's WebAssembly types yet.
    new WebAssembly.Memory({ address: 'i64', initial: 1n } as unknown as WebAssembly.MemoryDescriptor);
    return true;
  } catch {
    return false;
  }
}

async function pickDevice(preference: WllamaDevice): Promise<'cpu' | 'webgpu'> {
  if (preference === 'cpu') return 'cpu';
  const gpu = await detectGpu();
  // Without JSPI, wllama's WebGPU path needs the compat build; we never fetch that from a CDN.
  const usable = gpu.webgpu && 'Suspending' in WebAssembly;
  if (preference === 'webgpu') {
    if (!usable) throw new EngineError('WebGPU is not available to wllama in this browser (no adapter, or no JSPI). Choose the CPU.');
    return 'webgpu';
  }
  // A software adapter (SwiftShader) is slower than llama.cpp's own SIMD code on the CPU.
  return usable && !gpu.fallback ? 'webgpu' : 'cpu';
}

function defaultThreads(): number {
  if (!globalThis.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, Math.floor((navigator.hardwareConcurrency || 2) / 2)));
}

function loadParams(options: WllamaEngineOptions, device: 'cpu' | 'webgpu'): LoadModelParams {
  return {
    n_ctx: options.contextSize ?? DEFAULT_CONTEXT,
    n_threads: options.threads ?? defaultThreads(),
    // 0 also skips WebGPU device setup inside wllama's worker.
    n_gpu_layers: device === 'cpu' ? 0 : 999,
    seed: options.seed,
    // The GGUF's own Jinja template, so `enable_thinking` reaches Qwen3's template.
    jinja: true,
    // Return the model's text verbatim. llama-server's chat parser would move `<think>…</think>` into
    // reasoning_content, and with reasoning_format 'none' it echoes the prompt's empty think block
    // (`<think>\n\n</think>\n\n`) at the start of the content instead: both would corrupt the trace.
    skip_chat_parsing: true,
    log_level: options.verbose ? LogLevel.INFO : LogLevel.ERROR,
  };
}

/** Downloads through wllama's model manager (cached in OPFS), reporting bytes as they arrive. */
async function download(wllama: Wllama, url: string, options: WllamaEngineOptions, report: (p: LoadProgress) => void) {
  const name = fileName(url);
  const manager = wllama.modelManager;
  const files = ModelManager.parseModelUrl(url);
  // A copy from a host that sent no Content-Length is whole: record its size before wllama judges it.
  await recordReceivedSizes(manager.cacheManager, files);
  const fromCache = options.useCache !== false && (await manager.getModels()).some((model) => model.url === url);
  report(fromCache ? { text: `loading ${name} from the browser's cache`, fromCache } : { text: `fetching ${name}` });
  // The form shows the bytes beside the text; the text says what is happening (wllama reports a stored
  // model's bytes too, at once).
  const doing = fromCache ? `loading ${name} from the browser's cache` : `downloading ${name}`;
  let size = 0;
  let received = 0;
  const progressCallback = ({ loaded, total }: { loaded: number; total: number }) => {
    size = Math.max(total, loaded);
    received = loaded;
    report({ text: doing, loadedBytes: loaded, ...(total > 0 ? { totalBytes: total, fraction: Math.min(1, loaded / total) } : {}) });
  };
  const downloadOptions = { progressCallback, ...(options.signal ? { signal: options.signal } : {}) };
  // The file stays in OPFS for later loads, offline too. A full store: the partial file is dropped (other
  // cached models stay) and the user reads how much is needed and where to free it.
  try {
    const model = await explainQuota(
      () => (options.useCache === false ? manager.downloadModel(url, downloadOptions) : manager.getModelOrDownload({ url }, downloadOptions)),
      { what: `the model ${name}`, neededBytes: () => size, dropPartial: () => manager.cacheManager.delete(url) },
    );
    await recordReceivedSizes(manager.cacheManager, files);
    return model;
  } catch (error) {
    // A connection that drops mid-file is not a bad URL: say so, and how far it got when known.
    const failure = classifyWllamaError(error);
    const midFile = received > 0 || failure === 'cut-off';
    if (!midFile || failure === 'storage-full' || failure === 'cancelled') throw error;
    const progress = received > 0 ? ` after ${mb(received)}${size > 0 ? ` of ${mb(size)}` : ''} MB` : '';
    throw new EngineError(`The download of ${name} was interrupted${progress} (${errorMessage(error)}). Press Load model to download it again.`, { cause: error });
  }
}

/** Loads a downloaded model; a file that is not a loadable GGUF is dropped from the cache. */
async function loadDownloaded(wllama: Wllama, model: Model, url: string, params: LoadModelParams): Promise<void> {
  const blobs = await model.open();
  try {
    const problem = notGgufProblem(await head(blobs[0]), url);
    if (problem) throw new EngineError(problem);
    await wllama.loadModel(blobs, params);
    // wllama 3.8.1 ignores llama.cpp's load failure; the first generation would then abort the wasm.
    if (!(wllama.getLoadedContextInfo().n_vocab > 0)) {
      throw new EngineError(`llama.cpp could not load ${fileName(url)}: the file is truncated, or its architecture is not supported.`);
    }
  } catch (error) {
    if (error instanceof EngineError) await model.remove().catch(() => {});
    throw error;
  }
}

async function head(blob: Blob | undefined): Promise<Uint8Array> {
  return blob ? new Uint8Array(await blob.slice(0, HEAD_BYTES).arrayBuffer()) : new Uint8Array();
}

/** The OpenAI-shaped body llama-server reads; wllama's type omits `stop` and `stream_options`. */
type ChatBody = ChatCompletionParams & { stop?: string[]; stream_options?: { include_usage: boolean } };

function chatBody(request: GenerateRequest): ChatBody {
  const body: ChatBody = commonChatFields(request);
  if (request.grammar) body.grammar = request.grammar;
  // Qwen3's template reads enable_thinking; false closes an empty think block in the prompt.
  if (request.thinking !== undefined) body.chat_template_kwargs = { enable_thinking: request.thinking };
  if (request.signal) body.abortSignal = request.signal;
  return body;
}
