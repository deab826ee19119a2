/**
 * Product quantisation (Jégou et al.; FAISS's ProductQuantizer): a vector is cut into `subquantizers`
 * sub-vectors of equal length, and each is replaced by the number of its nearest of 256 codewords, so a
 * vector becomes one byte a sub-vector. A query is compared with codes by asymmetric distance
 * computation: the query stays in floats, its inner product with every codeword of every sub-space is
 * computed once (the table), and a code's score is then one table look-up a byte. Training and encoding
 * are the builder's (index-builder/pq-encoder.ts).
 */

/** Codewords a sub-space: a code is one byte. */
export const PQ_CENTROIDS = 256;

export class ProductQuantizer {
  /** Dimensions of one sub-vector. */
  readonly subDimension: number;

  constructor(
    readonly dimension: number,
    readonly subquantizers: number,
    /** `subquantizers × 256 × subDimension` floats: sub-space by sub-space, codeword by codeword. */
    readonly codebooks: Float32Array,
  ) {
    if (!Number.isInteger(subquantizers) || subquantizers < 1 || dimension % subquantizers !== 0) throw new Error(`${subquantizers} sub-quantisers do not divide ${dimension} dimensions`);
    this.subDimension = dimension / subquantizers;
    if (codebooks.length !== subquantizers * PQ_CENTROIDS * this.subDimension) throw new Error(`${codebooks.length} codebook floats are not ${subquantizers} × ${PQ_CENTROIDS} codewords of ${this.subDimension}`);
  }

  /** The query's inner product with every codeword: entry `m × 256 + j` for codeword j of sub-space m. */
  innerProductTable(query: Float32Array): Float32Array {
    const { subDimension: sub, codebooks } = this;
    const table = new Float32Array(this.subquantizers * PQ_CENTROIDS);
    for (let c = 0; c < table.length; c++) {
      const at = c * sub;
      const q = Math.floor(c / PQ_CENTROIDS) * sub;
      let sum = 0;
      for (let i = 0; i < sub; i++) sum += (codebooks[at + i] as number) * (query[q + i] as number);
      table[c] = sum;
    }
    return table;
  }
}

/** The score of the code at `codes[at …]` under an inner-product table: one look-up a byte. */
export function tableScore(table: Float32Array, codes: Uint8Array, at: number, subquantizers: number): number {
  let sum = 0;
  for (let m = 0, t = 0; m < subquantizers; m++, t += PQ_CENTROIDS) sum += table[t + (codes[at + m] as number)] as number;
  return sum;
}

/**
 * The number of sub-quantisers for a dimension: sub-vectors of 8 (FAISS's usual, and what holds recall
 * here: `npx tsx test/bench/ivf-pq-scale.ts`), at most 64 codes a passage, and a divisor of the
 * dimension. 384 → 48, 512 → 64, 768 → 64.
 */
export function subquantizersFor(dimension: number, maxCodes = 64): number {
  const wanted = Math.max(1, Math.min(maxCodes, Math.round(dimension / 8)));
  for (let m = wanted; m >= 1; m--) if (dimension % m === 0) return m;
  return 1;
}
