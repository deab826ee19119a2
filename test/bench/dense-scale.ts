/**
 * Dense top-10 search at scale on synthetic vectors: the int8 flat scan the app uses (WebAssembly SIMD,
 * and the JS scan it falls back to), against a float32 flat scan and voy-search, and against the
 * memory-bandwidth bound of reading the index once. Each query is a stored row plus noise, so "found"
 * means its row ranked first.
 *
 *   npx tsx test/bench/dense-scale.ts [--sizes 10000,100000,1000000 --dim 384 --queries 30]
 * (`npm run bench:retrieval` runs it too, after the demo index's quality.)
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { FlatInt8Index, TopK } from '../../src/retrieval/flat-index.ts';
import type { DenseIndex } from '../../src/retrieval/dense-index.ts';
import type { RankedRow } from '../../src/retrieval/ranked-row.ts';
import type { Int8Vectors } from '../../src/retrieval/vectors.ts';
import { normalize, quantizeInt8 } from '../../src/retrieval/vectors.ts';
import { seededRandom } from '../../src/core/agent/noise.ts';
import { percentile } from '../../src/core/eval/stats.ts';
import { VoyIndex } from './voy.ts';

export interface DenseScaleRow {
  index: 'flat-int8-simd' | 'flat-int8' | 'flat-float32' | 'voy' | 'bandwidth-bound';
  vectors: number;
  dimension: number;
  buildMs: number;
  bytesPerVector: number;
  p50Ms: number;
  p95Ms: number;
  /** Share of queries whose source row came first. */
  top1: number;
  /** Why a measurement is missing, or what it means. */
  note?: string;
  /** On the bandwidth-bound row: the best scan's p50 over this row's. */
  bestOverBound?: number;
}

function randomUnit(random: () => number, dimension: number): Float32Array {
  return normalize(Float32Array.from({ length: dimension }, () => random() * 2 - 1));
}

/** Generated a block at a time straight into int8: 1M float32 rows at once would be 1.5 GB. */
function syntheticInt8(count: number, dimension: number, seed: number): Int8Vectors {
  const random = seededRandom(seed);
  const codes = new Int8Array(count * dimension);
  const scales = new Float32Array(count);
  const block = 10_000;
  for (let start = 0; start < count; start += block) {
    const rows = Array.from({ length: Math.min(block, count - start) }, () => randomUnit(random, dimension));
    const q = quantizeInt8(rows, dimension);
    codes.set(q.codes, start * dimension);
    scales.set(q.scales, start);
  }
  return { dimension, codes, scales };
}

type Queries = { row: number; query: Float32Array }[];

function queriesNear(vectors: Int8Vectors, count: number, seed: number): Queries {
  const random = seededRandom(seed);
  const n = vectors.scales.length;
  const { dimension } = vectors;
  return Array.from({ length: count }, () => {
    const row = Math.floor(random() * n);
    const scale = vectors.scales[row] ?? 0;
    const query = Float32Array.from({ length: dimension }, (_, i) => (vectors.codes[row * dimension + i] ?? 0) * scale + (random() - 0.5) * 0.02);
    return { row, query: normalize(query) };
  });
}

/** A float32 scan written as the JS int8 scan is (four accumulators, bounded top-k): what the int8
 * codes save over keeping the vectors as floats. */
export class FlatFloat32Index implements DenseIndex {
  constructor(
    private readonly data: Float32Array,
    private readonly dimension: number,
  ) {}

  static dequantized(vectors: Int8Vectors): FlatFloat32Index {
    const { dimension, codes, scales } = vectors;
    const data = new Float32Array(codes.length);
    for (let row = 0; row < scales.length; row++) {
      const scale = scales[row] as number;
      for (let i = row * dimension; i < (row + 1) * dimension; i++) data[i] = (codes[i] as number) * scale;
    }
    return new FlatFloat32Index(data, dimension);
  }

  get size(): number {
    return this.data.length / this.dimension;
  }

  search(query: Float32Array, k: number): RankedRow[] {
    const { data, dimension } = this;
    const top = new TopK(Math.min(k, this.size));
    const tail = dimension - (dimension % 4);
    for (let row = 0, offset = 0; row < this.size; row++, offset += dimension) {
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      for (let i = 0; i < tail; i += 4) {
        a += (data[offset + i] as number) * (query[i] as number);
        b += (data[offset + i + 1] as number) * (query[i + 1] as number);
        c += (data[offset + i + 2] as number) * (query[i + 2] as number);
        d += (data[offset + i + 3] as number) * (query[i + 3] as number);
      }
      for (let i = tail; i < dimension; i++) a += (data[offset + i] as number) * (query[i] as number);
      top.offer(row, a + b + c + d);
    }
    return top.sorted();
  }
}

/** Build time, then p50/p95 over the queries after one warm-up query (the JIT's and the caches'). */
async function measure<T extends DenseIndex>(name: DenseScaleRow['index'], build: () => Promise<T> | T, bytesPerVector: number | ((index: T) => number), vectors: Int8Vectors, queries: Queries): Promise<DenseScaleRow> {
  const started = performance.now();
  const index = await build();
  const buildMs = performance.now() - started;
  index.search(queries[0]?.query ?? new Float32Array(vectors.dimension), 10);
  const latencies: number[] = [];
  let top1 = 0;
  for (const { row, query } of queries) {
    const t = performance.now();
    const hits = index.search(query, 10);
    latencies.push(performance.now() - t);
    if (hits[0]?.row === row) top1++;
  }
  const bytes = typeof bytesPerVector === 'number' ? bytesPerVector : bytesPerVector(index);
  return { index: name, vectors: vectors.scales.length, dimension: vectors.dimension, buildMs, bytesPerVector: bytes, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), top1: top1 / queries.length };
}

/** The time to read the SIMD index's bytes once, doing nothing with them: no scan of them can be faster. */
function bandwidthBound(index: FlatInt8Index, vectors: Int8Vectors, repeats: number, best: DenseScaleRow): DenseScaleRow {
  index.stream();
  const times = Array.from({ length: repeats }, () => {
    const t = performance.now();
    index.stream();
    return performance.now() - t;
  });
  const p50Ms = percentile(times, 50);
  const bytes = index.memoryBytes;
  const rows = vectors.scales.length;
  const note = `reads ${(bytes / 2 ** 20).toFixed(0)} MB at ${(bytes / 1e6 / p50Ms).toFixed(1)} GB/s; ${best.index} p50 is ${(best.p50Ms / p50Ms).toFixed(2)}× this`;
  return { index: 'bandwidth-bound', vectors: rows, dimension: vectors.dimension, buildMs: NaN, bytesPerVector: bytes / rows, p50Ms, p95Ms: percentile(times, 95), top1: NaN, note, bestOverBound: best.p50Ms / p50Ms };
}

export interface DenseScaleOptions {
  sizes: readonly number[];
  dimension: number;
  queries: number;
  /** voy is skipped where its build, extrapolated linearly from the last size it ran at, would exceed this. */
  voyBudgetMs: number;
  /** The float32 scan is skipped where its vectors would take more than this. */
  float32MaxBytes?: number;
  log: (line: string) => void;
}

const missing = (index: DenseScaleRow['index'], vectors: number, dimension: number, note: string): DenseScaleRow => ({ index, vectors, dimension, buildMs: NaN, bytesPerVector: NaN, p50Ms: NaN, p95Ms: NaN, top1: NaN, note });

export async function denseScaleBench(options: DenseScaleOptions): Promise<DenseScaleRow[]> {
  const rows: DenseScaleRow[] = [];
  const float32MaxBytes = options.float32MaxBytes ?? 2 * 2 ** 30;
  let voyMsPerVector = 0;
  for (const size of options.sizes) {
    const { dimension } = options;
    options.log(`dense scale: ${size} vectors of ${dimension} dimensions…`);
    const vectors = syntheticInt8(size, dimension, size);
    const queries = queriesNear(vectors, options.queries, size + 1);
    const int8Bytes = dimension + 4;
    let simd: FlatInt8Index | null = null;
    const simdRow = await measure('flat-int8-simd', () => (simd = withBlock(vectors, 'wasm-simd')), (index) => index.memoryBytes / size, vectors, queries);
    rows.push(simdRow);
    if (simd) rows.push(bandwidthBound(simd, vectors, Math.max(5, options.queries), simdRow));
    simd = null;
    rows.push(await measure('flat-int8', () => withBlock(vectors, 'js'), int8Bytes, vectors, queries));
    if (size * dimension * 4 <= float32MaxBytes) rows.push(await measure('flat-float32', () => FlatFloat32Index.dequantized(vectors), dimension * 4, vectors, queries));
    else rows.push(missing('flat-float32', size, dimension, `not run: its vectors would take ${Math.round((size * dimension * 4) / 2 ** 20)} MB`));
    rows.push(await measureVoy(vectors, queries, voyMsPerVector, options.voyBudgetMs));
    const voy = rows.at(-1);
    if (voy && !Number.isNaN(voy.buildMs)) voyMsPerVector = voy.buildMs / size;
  }
  return rows;
}

async function measureVoy(vectors: Int8Vectors, queries: Queries, msPerVector: number, budgetMs: number): Promise<DenseScaleRow> {
  const size = vectors.scales.length;
  const estimate = msPerVector * size;
  if (estimate > budgetMs) return missing('voy', size, vectors.dimension, `not run: its build would take about ${Math.round(estimate / 1000)} s`);
  let voy: DenseScaleRow;
  try {
    voy = await measure('voy', () => VoyIndex.build(vectors), (index) => index.serializedBytes() / size, vectors, queries);
  } catch (error) {
    // Seen at 1M 384-d vectors: voy's wasm aborts ("unreachable") while adding, out of 32-bit memory.
    return missing('voy', size, vectors.dimension, `failed to build: ${error instanceof Error ? error.message : String(error)}`);
  }
  return Number.isNaN(voy.bytesPerVector) ? { ...voy, note: 'cannot serialise: its JSON exceeds the 512 MB string limit' } : voy;
}

function withBlock(vectors: Int8Vectors, kernel: 'wasm-simd' | 'js'): FlatInt8Index {
  const index = new FlatInt8Index(vectors.dimension, { kernel });
  index.add(vectors);
  return index;
}

export function denseScaleTable(rows: readonly DenseScaleRow[]): Record<string, string | number>[] {
  const ms = (x: number) => (Number.isNaN(x) ? '–' : x.toFixed(1));
  return rows.map((r) => ({ index: r.index, vectors: r.vectors, 'build ms': ms(r.buildMs), 'bytes/vector': ms(r.bytesPerVector), 'p50 ms': ms(r.p50Ms), 'p95 ms': ms(r.p95Ms), 'top-1': Number.isNaN(r.top1) ? '–' : r.top1.toFixed(2), note: r.note ?? '' }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000,1000000' },
      dim: { type: 'string', default: '384' },
      queries: { type: 'string', default: '30' },
      'voy-budget-s': { type: 'string', default: '200' },
    },
  });
  const started = performance.now();
  const rows = await denseScaleBench({ sizes: values.sizes.split(',').map(Number), dimension: Number(values.dim), queries: Number(values.queries), voyBudgetMs: Number(values['voy-budget-s']) * 1000, log: (line) => console.error(line) });
  console.log(`\nDense top-10 on synthetic ${values.dim}-d vectors (${values.queries} queries each; top-1 = the query's source row ranked first):`);
  console.table(denseScaleTable(rows));
  console.error(`dense scale: ${((performance.now() - started) / 1000).toFixed(0)} s`);
}
