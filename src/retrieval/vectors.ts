/**
 * Compact vector storage: each unit-length vector is kept as int8 codes with one float32 scale
 * (symmetric quantisation, scale = max |x| / 127), a quarter of float32's bytes.
 */

export interface Int8Vectors {
  readonly dimension: number;
  /** `count * dimension` codes, row after row. */
  readonly codes: Int8Array;
  /** One scale per row: `x[i] ≈ codes[i] * scale`. */
  readonly scales: Float32Array;
}

export function normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm === 0 || !Number.isFinite(norm)) return new Float32Array(vector.length);
  return vector.map((x) => x / norm);
}

export function quantizeInt8(rows: readonly Float32Array[], dimension: number): Int8Vectors {
  const codes = new Int8Array(rows.length * dimension);
  const scales = new Float32Array(rows.length);
  rows.forEach((row, r) => {
    if (row.length !== dimension) throw new Error(`vector ${r} has ${row.length} dimensions, expected ${dimension}`);
    let max = 0;
    for (const x of row) max = Math.max(max, Math.abs(x));
    const scale = max / 127;
    scales[r] = scale;
    if (scale === 0) return;
    for (let i = 0; i < dimension; i++) codes[r * dimension + i] = Math.round((row[i] ?? 0) / scale);
  });
  return { dimension, codes, scales };
}

export function dequantizeRow(vectors: Int8Vectors, row: number): Float32Array {
  const { dimension, codes, scales } = vectors;
  const scale = scales[row] ?? 0;
  const out = new Float32Array(dimension);
  for (let i = 0; i < dimension; i++) out[i] = (codes[row * dimension + i] ?? 0) * scale;
  return out;
}
