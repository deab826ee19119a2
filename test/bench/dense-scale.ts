/**
 * Dense top-10 search at scale on synthetic vectors: the int8 flat scan the app uses, against voy-search
 * and a float32 flat scan. Each query is a stored row plus noise, so "found" means its row ranked first.
 */
import { FlatInt8Index } from '../../src/retrieval/flat-index.ts';
import type { DenseIndex } from '../../src/retrieval/dense-index.ts';
import type { Int8Vectors } from '../../src/retrieval/vectors.ts';
import { normalize, quantizeInt8 } from '../../src/retrieval/vectors.ts';
import { seededRandom } from '../../src/core/noise.ts';
import { percentile } from '../../src/core/stats.ts';
import { VoyIndex } from './voy.ts';

export interface DenseScaleRow {
  index: 'flat-int8' | 'flat-float32' | 'voy';
  vectors: number;
  dimension: number;
  buildMs: number;
  bytesPerVector: number;
  p50Ms: number;
  p95Ms: number;
  /** Share of queries whose source row came first. */
  top1: number;
  /** Why a measurement is missing. */
  note?: string;
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

function queriesNear(vectors: Int8Vectors, count: number, seed: number): { row: number; query: Float32Array }[] {
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

/** A float32 scan, the reference the int8 scan is compared with. */
export class FlatFloat32Index implements DenseIndex {
  constructor(
    private readonly data: Float32Array,
    private readonly dimension: number,
  ) {}

  static dequantized(vectors: Int8Vectors): FlatFloat32Index {
    const { dimension, codes, scales } = vectors;
    return new FlatFloat32Index(Float32Array.from(codes, (c, i) => c * (scales[Math.floor(i / dimension)] ?? 0)), dimension);
  }

  get size(): number {
    return this.data.length / this.dimension;
  }

  search(query: Float32Array, k: number) {
    const scores: { row: number; score: number }[] = [];
    for (let row = 0, offset = 0; row < this.size; row++, offset += this.dimension) {
      let dot = 0;
      for (let i = 0; i < this.dimension; i++) dot += (this.data[offset + i] as number) * (query[i] as number);
      scores.push({ row, score: dot });
    }
    return scores.sort((a, b) => b.score - a.score).slice(0, k);
  }
}

async function measure<T extends DenseIndex>(name: DenseScaleRow['index'], build: () => Promise<T> | T, bytesPerVector: number | ((index: T) => number), vectors: Int8Vectors, queries: ReturnType<typeof queriesNear>): Promise<DenseScaleRow> {
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

export interface DenseScaleOptions {
  sizes: readonly number[];
  dimension: number;
  queries: number;
  /** voy is skipped where its build, extrapolated linearly from the last size it ran at, would exceed this. */
  voyBudgetMs: number;
  log: (line: string) => void;
}

export async function denseScaleBench(options: DenseScaleOptions): Promise<DenseScaleRow[]> {
  const rows: DenseScaleRow[] = [];
  let voyMsPerVector = 0;
  for (const size of options.sizes) {
    options.log(`dense scale: ${size} vectors of ${options.dimension} dimensions…`);
    const vectors = syntheticInt8(size, options.dimension, size);
    const queries = queriesNear(vectors, options.queries, size + 1);
    const int8Bytes = options.dimension + 4;
    rows.push(await measure('flat-int8', () => withBlock(vectors), int8Bytes, vectors, queries));
    if (size * options.dimension * 4 <= 512 * 1024 * 1024) rows.push(await measure('flat-float32', () => FlatFloat32Index.dequantized(vectors), options.dimension * 4, vectors, queries));
    const voyEstimate = voyMsPerVector * size;
    if (voyEstimate > options.voyBudgetMs) {
      rows.push({ index: 'voy', vectors: size, dimension: options.dimension, buildMs: NaN, bytesPerVector: NaN, p50Ms: NaN, p95Ms: NaN, top1: NaN, note: `not run: its build would take about ${Math.round(voyEstimate / 1000)} s` });
      continue;
    }
    let voy: DenseScaleRow;
    try {
      voy = await measure('voy', () => VoyIndex.build(vectors), (index) => index.serializedBytes() / size, vectors, queries);
    } catch (error) {
      // Seen at 1M 384-d vectors: voy's wasm aborts ("unreachable") while adding, out of 32-bit memory.
      rows.push({ index: 'voy', vectors: size, dimension: options.dimension, buildMs: NaN, bytesPerVector: NaN, p50Ms: NaN, p95Ms: NaN, top1: NaN, note: `failed to build: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    voyMsPerVector = voy.buildMs / size;
    rows.push(Number.isNaN(voy.bytesPerVector) ? { ...voy, note: 'cannot serialise: its JSON exceeds the 512 MB string limit' } : voy);
  }
  return rows;
}

function withBlock(vectors: Int8Vectors): FlatInt8Index {
  const index = new FlatInt8Index(vectors.dimension);
  index.add(vectors);
  return index;
}
