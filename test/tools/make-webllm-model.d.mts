/** Types for make-webllm-model.mjs (plain ESM so Node 20 runs it without a TypeScript loader). */

export interface ModelSettings {
  readonly seed: number;
  readonly contextWindow: number;
  readonly prefillChunk: number;
}

export interface LibraryMetadata {
  model_type: string;
  quantization: string;
  context_window_size: number;
  prefill_chunk_size: number;
  params: { name: string; shape: number[]; dtype: string }[];
}

/** `.cache/webllm-model/` in the project (git-ignored). */
export const WEBLLM_MODEL_ROOT: string;
export const DEFAULT_MODEL_SETTINGS: ModelSettings;
export function readLibraryMetadata(wasm: Uint8Array): LibraryMetadata;
/** Writes the model folder and returns what it holds. */
export function writeWebLlmModel(libraryPath: string, outDir: string, settings?: ModelSettings): { bytes: number; shards: number; params: number };
/** Writes the model folder unless an up-to-date one exists; returns its path. */
export function ensureWebLlmModel(libraryPath: string, overrides?: Partial<ModelSettings>): string;
