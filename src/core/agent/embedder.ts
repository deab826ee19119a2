/**
 * Text embedders behind one interface, so the index builder (Node) and the retrieval worker (browser)
 * embed with the same model: the manifest records which one built the shards.
 */

/** Asymmetric models (e5) prefix queries and passages differently; symmetric ones ignore this. */
export type EmbedKind = 'query' | 'passage';

export interface Embedder {
  /** Stable id recorded in the index manifest, e.g. `use-lite` or `transformers:Xenova/e5-small-v2`. */
  readonly id: string;
  readonly dimension: number;
  /** How many `embed` calls it can work on at once (a pool of workers); 1 when absent. */
  readonly parallelism?: number;
  /** One unit-length vector per text, in order. */
  embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}
