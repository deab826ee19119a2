/**
 * Embedders from the Hugging Face hub through transformers.js (ONNX Runtime: native in Node, wasm in
 * the browser): e5-class models by default, with their `query: ` / `passage: ` prefixes, mean pooling
 * and unit length. Weights come from the hub, a self-hosted mirror, or a local folder.
 */
import { env, ModelFileNotFoundError, pipeline, type DataType, type FeatureExtractionPipeline, type ProgressInfo } from '@huggingface/transformers';
import type { EmbedKind, Embedder } from '../core/agent/embedder.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { readHttpUrl, type UrlField } from '../core/util/http-url.ts';

export const DEFAULT_E5_MODEL = 'Xenova/e5-small-v2';

export interface TransformersEmbedderOptions {
  /** A hub id such as `Xenova/e5-small-v2` (the default), or a folder name under `localModelPath`. */
  model?: string;
  /** A mirror of the hub; replaces https://huggingface.co/. http(s) only. */
  remoteHost?: string;
  /** The mirror's layout under `remoteHost`; the hub's, `{model}/resolve/{revision}/`, by default. */
  remotePathTemplate?: string;
  /** A folder (path in Node, URL path in a browser) holding `{model}/config.json`, … */
  localModelPath?: string;
  /** May files be fetched from the hub or `remoteHost`? Default: only when no `localModelPath` is given. */
  allowRemote?: boolean;
  /**
   * Where onnxruntime-web's runtime is served (browser only, required there, so it never comes from a
   * CDN): a folder URL ending in `/` holding `ort-wasm-simd-threaded.asyncify.{mjs,wasm}`, or both URLs.
   */
  wasmPaths?: string | { mjs: string; wasm: string };
  /** fp32 by default: quantised weights would give query vectors that drift from fp32 passage vectors. */
  dtype?: DataType;
  queryPrefix?: string;
  passagePrefix?: string;
  onProgress?: (progress: { text: string; file?: string; loaded?: number; total?: number }) => void;
}

/** Texts per forward pass: bounds the padded [batch, sequence, hidden] tensor's memory. */
const BATCH = 16;

/** transformers.js keeps its sources in one global `env`; a load without a mirror goes back to the hub. */
const HUB = { remoteHost: env.remoteHost, remotePathTemplate: env.remotePathTemplate };

/** The mirror's base URL with a trailing `/`, or a readable error. */
export function validateRemoteHost(url: string): string {
  const read = readHttpUrl(url, MODEL_HOST);
  if ('problem' in read) throw new Error(read.problem);
  // fetch() refuses URLs with credentials, and they would leak into error messages.
  if (read.url.username || read.url.password) throw new Error('The model host URL must not contain a user name or password.');
  return read.url.href.endsWith('/') ? read.url.href : `${read.url.href}/`;
}

const MODEL_HOST: UrlField = { what: 'model host', example: 'https://mirror.example.org/' };

export class TransformersEmbedder implements Embedder {
  private constructor(
    private readonly extractor: FeatureExtractionPipeline,
    readonly id: string,
    readonly dimension: number,
    private readonly prefixes: Record<EmbedKind, string>,
  ) {}

  static async load(options: TransformersEmbedderOptions = {}): Promise<TransformersEmbedder> {
    const model = options.model ?? DEFAULT_E5_MODEL;
    configure(options);
    let extractor: FeatureExtractionPipeline;
    try {
      extractor = await pipeline('feature-extraction', model, {
        dtype: options.dtype ?? 'fp32',
        progress_callback: (info) => reportProgress(info, options.onProgress),
      });
    } catch (error) {
      throw new Error(`could not load the embedding model ${model}: ${describeLoadFailure(error, options)}`, { cause: error });
    }
    const [probe] = await embedBatch(extractor, ['dimension probe']);
    if (!probe?.length || !probe.every(Number.isFinite)) {
      await extractor.dispose();
      throw new Error(`the embedding model ${model} returned no usable vector`);
    }
    const prefixes = { query: options.queryPrefix ?? 'query: ', passage: options.passagePrefix ?? 'passage: ' };
    return new TransformersEmbedder(extractor, `transformers:${model}`, probe.length, prefixes);
  }

  async embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]> {
    const prefixed = texts.map((text) => this.prefixes[kind] + text);
    const out: Float32Array[] = [];
    for (let start = 0; start < prefixed.length; start += BATCH) out.push(...(await embedBatch(this.extractor, prefixed.slice(start, start + BATCH))));
    return out;
  }

  async dispose(): Promise<void> {
    await this.extractor.dispose();
  }
}

/** Validates before touching `env`, so a bad option leaves the previous configuration intact. */
function configure(options: TransformersEmbedderOptions): void {
  const remoteHost = options.remoteHost === undefined ? HUB.remoteHost : validateRemoteHost(options.remoteHost);
  const onnx = env.backends.onnx;
  // onnxruntime-web sets `versions.web`; without wasmPaths, transformers.js would fetch its runtime from a CDN.
  if (onnx.versions?.web !== undefined && options.wasmPaths === undefined) throw new Error('in a browser, wasmPaths must point at the onnxruntime-web files the app serves');
  env.remoteHost = remoteHost;
  env.remotePathTemplate = options.remotePathTemplate ?? HUB.remotePathTemplate;
  env.allowRemoteModels = options.allowRemote ?? options.localModelPath === undefined;
  env.allowLocalModels = options.localModelPath !== undefined;
  if (options.localModelPath !== undefined) env.localModelPath = options.localModelPath;
  if (options.wasmPaths !== undefined && onnx.wasm) onnx.wasm.wasmPaths = options.wasmPaths;
}

/** transformers.js reports a missing file with its full path or URL in quotes; name that file and where we looked. */
function describeLoadFailure(error: unknown, options: TransformersEmbedderOptions): string {
  if (error instanceof ModelFileNotFoundError) {
    const where = /"([^"]+)"/.exec(error.message)?.[1];
    if (!where) return error.message;
    const downloads = env.allowRemoteModels ? '' : ' (downloads are off)';
    return `missing file ${where}${downloads}`;
  }
  // Node's fetch says only "fetch failed"; the reason (refused, DNS, TLS) is in its cause.
  const cause = error instanceof Error && error.cause !== undefined ? `: ${errorMessage(error.cause)}` : '';
  const host = options.remoteHost ?? HUB.remoteHost;
  return error instanceof TypeError && /fetch/i.test(error.message) ? `could not reach ${host}${cause}` : `${errorMessage(error)}${cause}`;
}

async function embedBatch(extractor: FeatureExtractionPipeline, texts: string[]): Promise<Float32Array[]> {
  const output = await extractor(texts, { pooling: 'mean', normalize: true });
  const [rows = 0, dimension = 0] = output.dims;
  const data = output.data as Float32Array; // fp32 pooling output, whatever the weights' dtype
  const vectors = Array.from({ length: rows }, (_, i) => data.slice(i * dimension, (i + 1) * dimension));
  output.dispose();
  return vectors;
}

function reportProgress(info: ProgressInfo, onProgress: TransformersEmbedderOptions['onProgress']): void {
  if (!onProgress || info.status !== 'progress') return;
  onProgress({ text: `downloading ${info.file}`, file: info.file, loaded: info.loaded, total: info.total });
}
