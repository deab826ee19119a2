/** A dense index answers "the k rows most similar to this unit-length query" (inner product). */
import type { RankedRow } from './ranked-row.ts';

export interface DenseIndex {
  readonly size: number;
  search(query: Float32Array, k: number): RankedRow[];
}
