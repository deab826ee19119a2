import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/agent/noise.ts';
import { FlatInt8Index, type ScanKernel } from '../../src/retrieval/flat-index.ts';
import { dequantizeRow, normalize, quantizeInt8, type Int8Vectors } from '../../src/retrieval/vectors.ts';

const vector = (dimension: number) => fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: dimension, maxLength: dimension }).map((xs) => normalize(Float32Array.from(xs)));

function randomRows(count: number, dimension: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => normalize(Float32Array.from({ length: dimension }, () => random() * 2 - 1)));
}

function indexOf(kernel: ScanKernel, dimension: number, blocks: readonly Int8Vectors[]): FlatInt8Index {
  const index = new FlatInt8Index(dimension, { kernel });
  blocks.forEach((block) => index.add(block));
  return index;
}

/** Every row's exact score over the same (dequantised) vectors. */
function exactScores(blocks: readonly Int8Vectors[], query: Float32Array): number[] {
  const rows = blocks.flatMap((block) => Array.from({ length: block.scales.length }, (_, r) => dequantizeRow(block, r)));
  return rows.map((row) => row.reduce((sum, x, d) => sum + x * (query[d] ?? 0), 0));
}

/** The exact answer by full sort, ties to the lower row. */
function bruteForce(scores: readonly number[], k: number): number[] {
  return scores
    .map((score, i) => ({ i, score }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, k)
    .map((r) => r.i);
}

/**
 * The hits are `count` distinct rows, a top `count` of the exact scores and best first, within f32
 * precision: rows whose scores tie to rounding may come in either order (an exact comparison failed on
 * rows scoring 0 and 1e-45).
 */
function expectTopK(hits: readonly { row: number; score: number }[], scores: readonly number[], count: number): void {
  const tolerance = 1e-6;
  expect(hits).toHaveLength(count);
  const returned = new Set(hits.map((h) => h.row));
  expect(returned.size).toBe(count);
  const kth = Math.min(...hits.map((h) => scores[h.row] ?? NaN));
  scores.forEach((score, row) => {
    if (!returned.has(row)) expect(score).toBeLessThanOrEqual(kth + tolerance);
  });
  hits.forEach((hit, i) => {
    expect(hit.score).toBeCloseTo(scores[hit.row] ?? NaN, 5);
    if (i > 0) expect(scores[hit.row] ?? NaN).toBeLessThanOrEqual((scores[hits[i - 1]?.row ?? -1] ?? NaN) + tolerance);
  });
}

/** The query as the SIMD kernel sees it: rounded to int16 codes of one scale. */
function int16Query(query: Float32Array): Float32Array {
  const max = Math.max(...query.map(Math.abs));
  const scale = max / Math.min(32_767, Math.floor((2 ** 31 - 1) / (128 * query.length)));
  return max === 0 ? query : query.map((x) => Math.round(x / scale) * scale);
}

describe('the int8 flat index, JS scan', () => {
  it('returns the k best rows, best first, across blocks', () => {
    fc.assert(
      fc.property(fc.array(vector(8), { minLength: 1, maxLength: 40 }), fc.array(vector(8), { maxLength: 40 }), vector(8), fc.integer({ min: 0, max: 50 }), (a, b, query, k) => {
        const blocks = [quantizeInt8(a, 8), quantizeInt8(b, 8)];
        const index = indexOf('js', 8, blocks);
        expectTopK(index.search(query, k), exactScores(blocks, query), Math.min(k, a.length + b.length));
        expect(index.size).toBe(a.length + b.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('the int8 flat index, WebAssembly SIMD kernel', () => {
  it('is the default in Node, which has WebAssembly SIMD', () => {
    expect(new FlatInt8Index(384).kernel).toBe('wasm-simd');
  });

  // Exact up to the query's rounding to int16 and the kernel's f32 scores: the k rows returned are a
  // top k of the exact scores for the rounded query, within f32 precision.
  it('returns the k best rows for its rounded query, best first, across blocks of any dimension', () => {
    const dims = fc.constantFrom(1, 3, 8, 15, 16, 17, 33);
    fc.assert(
      fc.property(
        dims.chain((d) => fc.tuple(fc.constant(d), fc.array(vector(d), { minLength: 1, maxLength: 40 }), fc.array(vector(d), { maxLength: 40 }), vector(d), fc.integer({ min: 0, max: 90 }))),
        ([d, a, b, query, k]) => {
          const blocks = [quantizeInt8(a, d), quantizeInt8(b, d)];
          const hits = indexOf('wasm-simd', d, blocks).search(query, k);
          expectTopK(hits, exactScores(blocks, int16Query(query)), Math.min(k, a.length + b.length));
        },
      ),
      { numRuns: 300 },
    );
  });

  // Random queries over random vectors are the hard case: no row stands out, so the top 10 are
  // separated by hair-thin margins. The kernel must still agree with float arithmetic over the same
  // int8 rows, and with the JS scan exactly.
  it('ranks 384-d vectors as float32 arithmetic over the same rows does (recall@10 ≥ 0.99), and as the JS scan', () => {
    const rows = randomRows(3_000, 384, 7);
    const blocks = [quantizeInt8(rows.slice(0, 1_001), 384), quantizeInt8(rows.slice(1_001), 384)];
    const simd = indexOf('wasm-simd', 384, blocks);
    const js = indexOf('js', 384, blocks);
    const queries = randomRows(40, 384, 8);
    let found = 0;
    for (const query of queries) {
      const float = bruteForce(exactScores(blocks, Float32Array.from(query)), 10);
      const hits = simd.search(query, 10).map((h) => h.row);
      found += hits.filter((row) => float.includes(row)).length;
      expect(hits).toEqual(js.search(query, 10).map((h) => h.row));
    }
    expect(found / (queries.length * 10)).toBeGreaterThanOrEqual(0.99);
  });

  it('ranks as the original float32 vectors do (recall@10 ≥ 0.99) for queries near a stored row', () => {
    const rows = randomRows(3_000, 384, 10);
    const simd = indexOf('wasm-simd', 384, [quantizeInt8(rows, 384)]);
    const random = seededRandom(11);
    let found = 0;
    for (let q = 0; q < 40; q++) {
      const near = rows[Math.floor(random() * rows.length)] ?? new Float32Array(384);
      const query = normalize(near.map((x) => x + (random() - 0.5) * 0.1));
      const float = bruteForce(rows.map((row) => row.reduce((sum, x, d) => sum + x * (query[d] ?? 0), 0)), 10);
      found += simd.search(query, 10).filter((h) => float.includes(h.row)).length;
    }
    expect(found / 400).toBeGreaterThanOrEqual(0.99);
  });

  it('answers nothing from no rows, and every row, ranked, when k exceeds them', () => {
    const empty = new FlatInt8Index(17, { kernel: 'wasm-simd' });
    expect(empty.search(randomRows(1, 17, 1)[0] ?? new Float32Array(17), 10)).toEqual([]);
    empty.add(quantizeInt8([], 17));
    expect(empty.search(randomRows(1, 17, 1)[0] ?? new Float32Array(17), 10)).toEqual([]);
    const rows = randomRows(5, 17, 2);
    const block = quantizeInt8(rows, 17);
    const query = randomRows(1, 17, 3)[0] ?? new Float32Array(17);
    const hits = indexOf('wasm-simd', 17, [block]).search(query, 50);
    expect(hits.map((h) => h.row)).toEqual(bruteForce(exactScores([block], query), 50));
    expect(hits).toHaveLength(5);
  });
});

describe.each(['js', 'wasm-simd'] as const)('the int8 flat index (%s)', (kernel) => {
  it('finds the row a query was made from', () => {
    const rows = randomRows(500, 64, 42);
    const index = indexOf(kernel, 64, [quantizeInt8(rows, 64)]);
    expect(index.search(rows[123] ?? new Float32Array(64), 1)[0]?.row).toBe(123);
  });

  it('refuses a query or a block of the wrong dimension, and a query that is not finite', () => {
    const index = new FlatInt8Index(4, { kernel });
    expect(() => index.add(quantizeInt8([new Float32Array(3)], 3))).toThrow('3-d vectors cannot join a 4-d index');
    expect(() => index.search(new Float32Array(5), 3)).toThrow('query has 5 dimensions, the index 4');
    index.add(quantizeInt8([normalize(Float32Array.of(1, 2, 3, 4))], 4));
    expect(() => index.search(Float32Array.of(1, NaN, 0, 0), 3)).toThrow('not a finite number');
  });

  it('answers a zero query with the first rows rather than failing', () => {
    const index = indexOf(kernel, 20, [quantizeInt8(randomRows(6, 20, 9), 20)]);
    expect(index.search(new Float32Array(20), 3).map((h) => h.row)).toEqual([0, 1, 2]);
  });
});
