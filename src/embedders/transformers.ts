/**
 * Embedders from the Hugging Face hub through transformers.js (ONNX Runtime: native in Node, wasm in
 * the browser): e5-class models by default, with their `query: ` / `passage: ` prefixes, mean pooling
 * and unit length. Weights come from the hub, a self-hosted mirror, or a local folder.
 */
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import type { EmbedKind, Embedder } from '../core/embedder.ts';

export const DEFAULT_E5_MODEL = 'Xenova/e5-small-v2';

export type TransformersDtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4';

export interface TransformersEmbedderOptions {
  /** A hub id such as `Xenova/e5-small-v2`, or a folder name under `localModelPath`. */
  model: string;
  /** A mirror of the hub; replaces https://huggingface.co/. */
  remoteHost?: string;
  /** The mirror's layout under `remoteHost`; the hub's is `{model}/resolve/{revision}/`. */
  remotePathTemplate?: string;
  /** A folder (path in Node, URL in a browser) holding `{model}/config.json`, … */
  localModelPath?: string;
  allowRemote: boolean;
  /** Where onnxruntime-web's wasm runtime is served: our own files, never a CDN (browser only). */
  wasmPaths?: { mjs: string; wasm: string };
  dtype?: TransformersDtype;
  queryPrefix?: string;
  passagePrefix?: string;
  onProgress?: (progress: { text: string; loaded?: number; total?: number }) => void;
}

/** Texts per forward pass: bounds the padded batch tensor's memory. */
const BATCH = 16;

export function validateRemoteHost(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`the model host "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error(`the model host must be an http(s) URL, got ${parsed.protocol}`);
  return parsed.href.endsWith('/') ? parsed.href : `${parsed.href}/`;
}

export class TransformersEmbedder implements Embedder {
  private constructor(
    private readonly extractor: FeatureExtractionPipeline,
    readonly id: string,
    readonly dimension: number,
    private readonly prefixes: Record<EmbedKind, string>,
  ) {}

  static async load(options: TransformersEmbedderOptions): Promise<TransformersEmbedder> {
    configure(options);
    let extractor: FeatureExtractionPipeline;
    try {
      extractor = await pipeline('feature-extraction', options.model, {
        ...(options.dtype && { dtype: options.dtype }),
        progress_callback: (info) => reportProgress(info, options.onProgress),
      });
    } catch (error) {
      throw new Error(`could not load the embedding model ${options.model}: ${error instanceof Error ? error.message : String(error)}`);
    }
    const prefixes = { query: options.queryPrefix ?? 'query: ', passage: options.passagePrefix ?? 'passage: ' };
    const probe = await embedBatch(extractor, ['dimension probe']);
    const dimension = probe[0]?.length ?? 0;
    if (dimension === 0) throw new Error(`the embedding model ${options.model} returned no vector`);
    return new TransformersEmbedder(extractor, `transformers:${options.model}`, dimension, prefixes);
  }

  async embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += BATCH) {
      out.push(...(await embedBatch(this.extractor, texts.slice(start, start + BATCH).map((t) => this.prefixes[kind] + t))));
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.extractor.dispose();
  }
}

/** transformers.js reads these from one global `env`; one embedder is loaded at a time. */
function configure(options: TransformersEmbedderOptions): void {
  env.allowRemoteModels = options.allowRemote;
  env.allowLocalModels = options.localModelPath !== undefined;
  if (options.localModelPath !== undefined) env.localModelPath = options.localModelPath;
  if (options.remoteHost) env.remoteHost = validateRemoteHost(options.remoteHost);
  if (options.remotePathTemplate) env.remotePathTemplate = options.remotePathTemplate;
  const wasm = env.backends.onnx.wasm;
  if (options.wasmPaths && wasm) wasm.wasmPaths = options.wasmPaths;
}

async function embedBatch(extractor: FeatureExtractionPipeline, texts: string[]): Promise<Float32Array[]> {
  const output = await extractor(texts, { pooling: 'mean', normalize: true });
  const [rows = 0, dimension = 0] = output.dims;
  const data = output.data as Float32Array;
  const vectors = Array.from({ length: rows }, (_, i) => data.slice(i * dimension, (i + 1) * dimension));
  output.dispose();
  return vectors;
}

function reportProgress(info: unknown, onProgress: TransformersEmbedderOptions['onProgress']): void {
  if (!onProgress || typeof info !== 'object' || info === null) return;
  const { status, file, loaded, total } = info as { status?: string; file?: string; loaded?: number; total?: number };
  if (status === 'progress') onProgress({ text: `downloading ${file ?? 'model'}`, ...(loaded !== undefined && { loaded }), ...(total !== undefined && { total }) });
}
