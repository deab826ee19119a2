/** A dense index answers "the k rows most similar to this unit-length query" (inner product). */

export interface DenseHit {
  /** Row number in the index: the passage's position in the corpus. */
  row: number;
  score: number;
}

export interface DenseIndex {
  readonly size: number;
  search(query: Float32Array, k: number): DenseHit[];
}
