/** Small runs of the benchmarks, so `npm run bench:retrieval` and `npm run bench` cannot rot unnoticed. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { denseScaleBench } from './dense-scale.ts';
import { ivfPqScaleBench } from './ivf-pq-scale.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

describe('bench:retrieval smoke', () => {
  it('measures the int8 scans (SIMD and JS), the float32 scan and voy on a small synthetic set, all finding the planted rows', async () => {
    const all = await denseScaleBench({ sizes: [1_000], dimension: 32, queries: 5, voyBudgetMs: 60_000, log: () => {} });
    expect(all.map((r) => r.index)).toEqual(['flat-int8-simd', 'bandwidth-bound', 'flat-int8', 'flat-float32', 'voy']);
    expect(all[1]?.note).toMatch(/flat-int8-simd p50 is [\d.]+× this/);
    const rows = all.filter((r) => r.index !== 'bandwidth-bound');
    for (const row of rows) {
      expect(row.top1, row.index).toBe(1);
      expect(row.p50Ms).toBeGreaterThanOrEqual(0);
    }
    expect(rows[0]?.bytesPerVector).toBe(36);
  });
});

describe('bench:scale dense smoke', () => {
  it('builds IVF-PQ from clustered vectors and measures its recall, reads and latency against the exact scan', async () => {
    const [row] = await ivfPqScaleBench({ sizes: [3_000], dimension: 64, queries: 10, nprobes: [], log: () => {} });
    expect(row?.recallAt10).toBeGreaterThan(0.4);
    expect(row?.coldQueryKB).toBeGreaterThan(0);
    expect(row?.openKB).toBeGreaterThan(0);
    expect(row?.warmP50Ms).toBeGreaterThanOrEqual(0);
    expect(row?.memoryMB).toBeGreaterThan(0);
  });
});

/** `npm run bench -- --smoke`: every section of the full bench at tiny sizes, run as a user runs it. */
describe('npm run bench smoke', () => {
  it('fills every section of the results JSON with finite numbers, and KV reuse saves prefill', { timeout: 300_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdg-bench-smoke-'));
    try {
      const out = join(dir, 'results.json');
      await run(process.execPath, ['--import', 'tsx', 'test/bench/run-all.ts', '--smoke', '--out', out], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
      const results = JSON.parse(readFileSync(out, 'utf8')) as SmokeResults;
      expect(results.table.length).toBeGreaterThan(40);
      for (const row of results.table) expect(Number.isFinite(row.value), `${row.section}: ${row.metric}`).toBe(true);
      expect(new Set(results.table.map((r) => r.section))).toEqual(new Set(['retrieval', 'memory', 'agent', 'app']));
      const [always, reasonInDocument, , , noSearch] = results.agent.rows;
      expect(results.agent.rows.map((r) => r.config)).toHaveLength(5);
      expect(always?.prefillPrefixReuse).toBeLessThan(always?.prefillNoReuse ?? 0);
      expect(reasonInDocument?.informationTokens).toBeLessThan(always?.informationTokens ?? 0);
      expect(noSearch?.searches).toBe(0);
      // 384 int8 codes and a float32 scale a passage, in the SIMD kernel's wasm memory.
      expect(results.memory.per100kMB.vectorsWasm).toBeGreaterThanOrEqual((388 * 100_000) / 1e6);
      expect(results.memory.per100kMB.lexicalHeap).toBeGreaterThan(0);
      // With a real engine the model takes most of the time; the shares add up to the whole run.
      const { modelShare, retrievalShare, otherShare } = results.overhead;
      expect(modelShare).toBeGreaterThan(0.5);
      expect(modelShare + retrievalShare + otherShare).toBeCloseTo(1, 2);
      expect(results.app.initialJsGzipBytes).toBeGreaterThan(10_000);
      expect(results.app.initialJsGzipBytes).toBeLessThan(results.app.allJsGzipBytes);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

interface SmokeResults {
  table: { section: string; metric: string; value: number | null; unit: string }[];
  agent: { rows: { config: string; searches: number; prefillNoReuse: number; prefillPrefixReuse: number; informationTokens: number }[] };
  memory: { per100kMB: { vectorsWasm: number; lexicalHeap: number } };
  app: { initialJsGzipBytes: number; allJsGzipBytes: number };
  overhead: { modelShare: number; retrievalShare: number; otherShare: number };
}
