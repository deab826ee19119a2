import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FlatInt8Index } from '../../src/retrieval/flat-index.ts';
import { dequantizeRow, normalize, quantizeInt8, type Int8Vectors } from '../../src/retrieval/vectors.ts';

const vector = (dimension: number) => fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: dimension, maxLength: dimension }).map((xs) => normalize(Float32Array.from(xs)));

/** The exact answer over the same (dequantised) vectors, by full sort. */
function bruteForce(blocks: readonly Int8Vectors[], query: Float32Array, k: number): number[] {
  const rows = blocks.flatMap((block) => Array.from({ length: block.scales.length }, (_, r) => dequantizeRow(block, r)));
  return rows
    .map((row, i) => ({ i, score: row.reduce((sum, x, d) => sum + x * (query[d] ?? 0), 0) }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, k)
    .map((r) => r.i);
}

describe('the int8 flat index', () => {
  it('returns exactly the k best rows, best first, across blocks', () => {
    fc.assert(
      fc.property(fc.array(vector(8), { minLength: 1, maxLength: 40 }), fc.array(vector(8), { maxLength: 40 }), vector(8), fc.integer({ min: 0, max: 50 }), (a, b, query, k) => {
        const blocks = [quantizeInt8(a, 8), quantizeInt8(b, 8)];
        const index = new FlatInt8Index(8);
        blocks.forEach((block) => index.add(block));
        const hits = index.search(query, k);
        expect(hits.map((h) => h.row)).toEqual(bruteForce(blocks, query, k));
        expect(index.size).toBe(a.length + b.length);
      }),
      { numRuns: 300 },
    );
  });

  it('finds the row a query was made from', () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    const rows = Array.from({ length: 500 }, () => normalize(Float32Array.from({ length: 64 }, random)));
    const index = new FlatInt8Index(64);
    index.add(quantizeInt8(rows, 64));
    expect(index.search(rows[123] ?? new Float32Array(64), 1)[0]?.row).toBe(123);
  });

  it('refuses a query or a block of the wrong dimension', () => {
    const index = new FlatInt8Index(4);
    expect(() => index.add(quantizeInt8([new Float32Array(3)], 3))).toThrow('3-d vectors cannot join a 4-d index');
    expect(() => index.search(new Float32Array(5), 3)).toThrow('query has 5 dimensions, the index 4');
  });
});
