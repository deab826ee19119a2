/**
 * The IVF-PQ dense index at scale on synthetic clustered vectors, against the exact int8 flat scan:
 * recall@10, warm latency, what open and a cold query read, and the memory the index holds.
 *
 *   npx tsx test/bench/ivf-pq-scale.ts [--sizes 1000000 --dim 384 --queries 200 --nprobe 16,32]
 * (`npm run bench:scale` runs it at 1M after the lexical sizes.)
 *
 * The vectors are ClusteredVectors (test/dense-fixtures.ts): topics, clusters around them, rows around
 * the clusters; a query is a fresh draw from the same mixture, so its ten nearest rows are near it, not
 * planted. They are written as the builder's int8 row shards and built into IVF-PQ by the builder's own
 * code; the index is opened over its files through the checksum-verifying range source, as the search
 * CLI does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ivfPqSettings, type IvfPqSettings } from '../../index-builder/ivf-pq-builder.ts';
import { percentile } from '../../src/core/eval/stats.ts';
import { FlatInt8Index } from '../../src/retrieval/flat-index.ts';
import { quantizeInt8, type Int8Vectors } from '../../src/retrieval/vectors.ts';
import { buildIvfPqIn, ClusteredVectors, openIvfPqIn, writeRowShards } from '../dense-fixtures.ts';

export interface IvfPqScaleRow {
  vectors: number;
  dimension: number;
  lists: number;
  subquantizers: number;
  nprobe: number;
  rerank: number;
  buildSeconds: number;
  /** Bytes of the index's files a passage (codes, ids, int8 rows, quantizer). */
  bytesPerPassage: number;
  openKB: number;
  coldQueryKB: number;
  coldQueryMs: number;
  warmP50Ms: number;
  warmP95Ms: number;
  /** p50 of the first pass over the queries, reading what each needs from disk (cold lists and blocks). */
  passP50Ms: number;
  /** Share of the exact top 10 found in the index's top 10, over all queries. */
  recallAt10: number;
  /** Bytes the index holds once every query ran (centroids, codebooks, lists and blocks kept). */
  memoryMB: number;
}

const EXACT_K = 10;

export interface IvfPqScaleOptions {
  sizes: readonly number[];
  dimension: number;
  queries: number;
  /** nprobe values to measure (the builder's default when empty). */
  nprobes: readonly number[];
  /** rerank values to measure (the builder's default when empty). */
  reranks?: readonly number[];
  settings?: Partial<IvfPqSettings>;
  log: (line: string) => void;
}

export async function ivfPqScaleBench(options: IvfPqScaleOptions): Promise<IvfPqScaleRow[]> {
  const rows: IvfPqScaleRow[] = [];
  for (const size of options.sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'sdg-ivf-bench-'));
    try {
      rows.push(...(await measureSize(dir, size, options)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

function* clusteredBlocks(source: ClusteredVectors, count: number, rowsPerBlock: number, exact: FlatInt8Index): Generator<Int8Vectors> {
  for (let first = 0; first < count; first += rowsPerBlock) {
    const block = quantizeInt8(Array.from({ length: Math.min(rowsPerBlock, count - first) }, () => source.draw()), source.dimension);
    exact.add(block);
    yield block;
  }
}

async function measureSize(dir: string, size: number, options: IvfPqScaleOptions): Promise<IvfPqScaleRow[]> {
  const { dimension } = options;
  const source = new ClusteredVectors(dimension, size);
  options.log(`IVF-PQ: ${size} clustered ${dimension}-d vectors…`);
  const exact = new FlatInt8Index(dimension);
  const shards = writeRowShards(dir, clusteredBlocks(source, size, Math.floor((2 * 1024 * 1024) / (dimension + 4)), exact));
  const queries = Array.from({ length: options.queries }, () => source.draw());
  const truth = queries.map((q) => new Set(exact.search(q, EXACT_K).map((hit) => hit.row)));
  const started = performance.now();
  const spec = buildIvfPqIn(dir, shards, dimension, { ...ivfPqSettings(size, dimension), ...options.settings });
  const buildSeconds = (performance.now() - started) / 1000;
  const bytes = [spec.quantizer, ...spec.files, ...spec.rowFiles].reduce((sum, f) => sum + f.bytes, 0);
  options.log(`IVF-PQ: built ${spec.lists} lists in ${buildSeconds.toFixed(0)} s`);
  const nprobes = options.nprobes.length ? options.nprobes : [spec.nprobe];
  const reranks = options.reranks?.length ? options.reranks : [spec.rerank];
  const results: IvfPqScaleRow[] = [];
  for (const search of nprobes.flatMap((nprobe) => reranks.map((rerank) => ({ nprobe, rerank })))) {
    const { index, read } = await openIvfPqIn(dir, spec);
    const coldStart = performance.now();
    await index.search(queries[0] ?? source.draw(), EXACT_K, search);
    const coldQueryMs = performance.now() - coldStart;
    const coldQueryKB = read.bytes / 1024;
    let found = 0;
    const pass: number[] = [];
    for (const [i, query] of queries.entries()) {
      const t = performance.now();
      const hits = await index.search(query, EXACT_K, search);
      pass.push(performance.now() - t);
      found += hits.filter((hit) => truth[i]?.has(hit.row)).length;
    }
    // Warm: each query again at once, so what it reads is held (a pass over all of them does not fit
    // the budgets at 1M: each query reads ~1 MB).
    const latencies: number[] = [];
    for (const query of queries) {
      await index.search(query, EXACT_K, search);
      const t = performance.now();
      await index.search(query, EXACT_K, search);
      latencies.push(performance.now() - t);
    }
    results.push({
      vectors: size,
      dimension,
      lists: spec.lists,
      subquantizers: spec.subquantizers,
      nprobe: search.nprobe,
      rerank: search.rerank,
      buildSeconds,
      bytesPerPassage: bytes / size,
      openKB: spec.quantizer.bytes / 1024,
      coldQueryKB,
      coldQueryMs,
      warmP50Ms: percentile(latencies, 50),
      warmP95Ms: percentile(latencies, 95),
      passP50Ms: percentile(pass, 50),
      recallAt10: found / (queries.length * EXACT_K),
      memoryMB: index.memoryBytes / 2 ** 20,
    });
    options.log(`IVF-PQ: nprobe ${search.nprobe}, rerank ${search.rerank}: recall@10 ${results.at(-1)?.recallAt10.toFixed(3)}`);
  }
  return results;
}

export function ivfPqScaleTable(rows: readonly IvfPqScaleRow[]): Record<string, string | number>[] {
  return rows.map((r) => ({
    vectors: r.vectors,
    'lists × codes': `${r.lists} × ${r.subquantizers}`,
    nprobe: r.nprobe,
    rerank: r.rerank,
    'build s': Math.round(r.buildSeconds),
    'bytes/passage': Math.round(r.bytesPerPassage),
    'open KB': Math.round(r.openKB),
    'cold query KB (ms)': `${Math.round(r.coldQueryKB)} (${r.coldQueryMs.toFixed(0)})`,
    'first-read p50 ms': Number(r.passP50Ms.toFixed(1)),
    'warm p50 / p95 ms': `${r.warmP50Ms.toFixed(1)} / ${r.warmP95Ms.toFixed(1)}`,
    'recall@10': Number(r.recallAt10.toFixed(3)),
    'memory MB': Number(r.memoryMB.toFixed(1)),
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1000000' },
      dim: { type: 'string', default: '384' },
      queries: { type: 'string', default: '200' },
      nprobe: { type: 'string', default: '' },
      rerank: { type: 'string' },
      lists: { type: 'string' },
    },
  });
  const numbers = (text: string) => text.split(',').filter(Boolean).map(Number);
  const rows = await ivfPqScaleBench({
    sizes: numbers(values.sizes),
    dimension: Number(values.dim),
    queries: Number(values.queries),
    nprobes: numbers(values.nprobe),
    reranks: numbers(values.rerank ?? ''),
    ...(values.lists && { settings: { lists: Number(values.lists) } }),
    log: (line) => console.error(line),
  });
  console.log(`\nIVF-PQ dense top-10 on synthetic clustered ${values.dim}-d vectors, against the exact int8 scan (${values.queries} queries):`);
  console.table(ivfPqScaleTable(rows));
}

