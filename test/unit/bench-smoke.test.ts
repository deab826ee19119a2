/** A small run of the retrieval benchmark, so `npm run bench:retrieval` cannot rot unnoticed. */
import { describe, expect, it } from 'vitest';
import { denseScaleBench } from '../bench/dense-scale.ts';

describe('bench:retrieval smoke', () => {
  it('measures the int8 scan, the float32 scan and voy on a small synthetic set, all finding the planted rows', async () => {
    const rows = await denseScaleBench({ sizes: [1_000], dimension: 32, queries: 5, voyBudgetMs: 60_000, log: () => {} });
    expect(rows.map((r) => r.index)).toEqual(['flat-int8', 'flat-float32', 'voy']);
    for (const row of rows) {
      expect(row.top1, row.index).toBe(1);
      expect(row.p50Ms).toBeGreaterThanOrEqual(0);
    }
    expect(rows[0]?.bytesPerVector).toBe(36);
  });
});
