/**
 * Builds an IVF-PQ dense index (ivf-pq-format.ts) from the int8 row shards the build has written:
 *
 * 1. a sample of rows trains the coarse centroids (spherical k-means) and, on the sample's residuals,
 *    one PQ codebook a sub-space (FAISS's `by_residual`);
 * 2. a sweep over every row assigns it to its nearest centroid and PQ-encodes its residual;
 * 3. list by list, the rows' int8 vectors are copied out of the shards into blocks (the exact re-rank
 *    reads them), and the list itself (row ids, codes, block checksums) is appended after them.
 *
 * Memory: the sample (64k × 384 floats at 1M rows, 98 MB), one code and one list number a row (52 MB
 * at 1M), one shard at a time; the int8 rows are read from disk, not held.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../src/core/agent/noise.ts';
import { MAX_SHARD_BYTES, type IvfPqVectors, type RowShard, type ShardFile } from '../src/core/index/index-manifest.ts';
import type { FileRange } from '../src/retrieval/byte-codec.ts';
import { encodeList, encodeQuantizer, type IvfPqQuantizer } from '../src/retrieval/ivf-pq-format.ts';
import { PQ_CENTROIDS, subquantizersFor } from '../src/retrieval/product-quantizer.ts';
import { decodeVectorShard, encodeVectorShard, joinBytes } from '../src/retrieval/shard-codec.ts';
import { dequantizeRow, quantizeInt8, type Int8Vectors } from '../src/retrieval/vectors.ts';
import { kmeansL2, nearestByInnerProduct, sphericalKmeans } from './kmeans.ts';
import { NearestCodeword } from './pq-encoder.ts';
import type { Progress } from './progress.ts';
import { rangeChecksumSync, RollingFiles } from './rolling-files.ts';

export interface IvfPqSettings {
  lists: number;
  subquantizers: number;
  nprobe: number;
  rerank: number;
  rowsPerBlock: number;
  /** Rows the coarse k-means trains on; the PQ codebooks train on at most PQ_SAMPLE of them. */
  sample: number;
  iterations: number;
  seed: number;
}

/** Points a PQ sub-space trains on: 64 a codeword (FAISS warns below 39). */
const PQ_SAMPLE = 64 * PQ_CENTROIDS;

/**
 * Settings by size. About √n lists of about √n rows: a query's lists then cost ~nprobe × √n × 53
 * bytes (850 KB at 1M rows). nprobe and rerank are what held recall@10 against the exact scan:
 * - the demo's USE-lite vectors (4,427, 67 lists; `npx tsx test/bench/ivf-pq-demo.ts --nprobe 4,8,16,32`):
 *   0.907, 0.970, 0.992, 0.999 at nprobe 4, 8, 16, 32; so at least 16 lists;
 * - 1M synthetic clustered vectors (`npx tsx test/bench/ivf-pq-scale.ts --nprobe 12,16 --rerank 100,200,300`):
 *   0.940 at any nprobe from 8 with 100 candidates re-ranked (PQ's order inside a cluster is the limit),
 *   1.000 with 200.
 */
export function ivfPqSettings(count: number, dimension: number): IvfPqSettings {
  const lists = Math.max(1, Math.min(65_536, Math.round(Math.sqrt(count))));
  return {
    lists,
    subquantizers: subquantizersFor(dimension),
    nprobe: Math.min(lists, Math.max(16, Math.ceil(lists / 64))),
    rerank: 200,
    rowsPerBlock: 8,
    sample: Math.min(count, Math.max(64 * lists, 10_000)),
    iterations: 10,
    seed: 1,
  };
}

export interface IvfPqBuildInput {
  /** The folder the row shards lie in; the index's files are written there too. */
  dir: string;
  shards: readonly RowShard[];
  dimension: number;
  count: number;
  settings: IvfPqSettings;
  /** Writes a whole file under a name that carries its hash. */
  write: (stem: string, ext: string, bytes: Uint8Array) => ShardFile;
  shardBytes: number;
  progress?: Progress;
}

/** The manifest's `vectors` entry, less its embedder. */
export type IvfPqFiles = Omit<IvfPqVectors, 'embedder'>;

export function buildIvfPq(input: IvfPqBuildInput): IvfPqFiles {
  const { settings, dimension, count } = input;
  const rows = new ShardRows(input.dir, input.shards, dimension);
  const random = seededRandom(settings.seed);
  const sample = rows.sample(Math.min(settings.sample, count), random);
  const trained = train(sample, dimension, settings, random);
  const { assignment, codes } = encodeAll(rows, trained, count, input.progress);
  const listFiles = new RollingFiles(input.dir, 'ivf-lists', input.shardBytes);
  const rowFiles = new RollingFiles(input.dir, 'ivf-rows', input.shardBytes);
  const directory = writeLists(rows, { assignment, codes, settings }, listFiles, rowFiles, input.progress);
  rows.close();
  const quantizer: IvfPqQuantizer = { dimension, subquantizers: settings.subquantizers, rowsPerBlock: settings.rowsPerBlock, centroids: trained.centroids, codebooks: trained.codebooks, directory };
  return {
    encoding: 'ivf-pq',
    count,
    lists: settings.lists,
    subquantizers: settings.subquantizers,
    nprobe: settings.nprobe,
    rerank: settings.rerank,
    quantizer: input.write('ivf-quantizer-000', 'bin', encodeQuantizer(quantizer)),
    files: listFiles.finish(),
    rowFiles: rowFiles.finish(),
  };
}

interface Trained {
  /** As stored (int8): rows are assigned and their residuals taken against exactly these. */
  centroids: Int8Vectors;
  /** The same, dequantized. */
  stored: Float32Array[];
  nearest: (vector: Float32Array) => number;
  codebooks: Float32Array;
  encoder: NearestCodeword;
}

function train(sample: Float32Array, dimension: number, settings: IvfPqSettings, random: () => number): Trained {
  const kmeans = { iterations: settings.iterations, random };
  const centroids = quantizeInt8(sphericalKmeans(sample, dimension, settings.lists, kmeans), dimension);
  const stored = Array.from({ length: settings.lists }, (_, list) => dequantizeRow(centroids, list));
  const nearest = nearestByInnerProduct(stored, dimension);
  const n = Math.min(sample.length / dimension, PQ_SAMPLE);
  const residuals = new Float32Array(n * dimension);
  for (let i = 0; i < n; i++) residual(sample.subarray(i * dimension, (i + 1) * dimension), stored, nearest, residuals.subarray(i * dimension));
  const sub = dimension / settings.subquantizers;
  const codebooks = new Float32Array(settings.subquantizers * PQ_CENTROIDS * sub);
  for (let m = 0; m < settings.subquantizers; m++) {
    const points = new Float32Array(n * sub);
    for (let i = 0; i < n; i++) points.set(residuals.subarray(i * dimension + m * sub, i * dimension + (m + 1) * sub), i * sub);
    kmeansL2(points, sub, PQ_CENTROIDS, kmeans).forEach((codeword, j) => codebooks.set(codeword, (m * PQ_CENTROIDS + j) * sub));
  }
  return { centroids, stored, nearest, codebooks, encoder: new NearestCodeword(codebooks, settings.subquantizers, PQ_CENTROIDS, sub) };
}

/** Writes `vector − its nearest centroid` into `out`; returns the centroid's list. */
function residual(vector: Float32Array, centroids: readonly Float32Array[], nearest: (vector: Float32Array) => number, out: Float32Array): number {
  const list = nearest(vector);
  const centroid = centroids[list] as Float32Array;
  for (let i = 0; i < centroid.length; i++) out[i] = (vector[i] as number) - (centroid[i] as number);
  return list;
}

function encodeAll(rows: ShardRows, trained: Trained, count: number, progress?: Progress): { assignment: Uint32Array; codes: Uint8Array } {
  const { encoder, stored } = trained;
  const m = encoder.books;
  const assignment = new Uint32Array(count);
  const codes = new Uint8Array(count * m);
  const out = new Float32Array(m * encoder.sub);
  progress?.start('IVF-PQ: encoding the vectors', count);
  rows.forEach((row, vector) => {
    assignment[row] = residual(vector, stored, trained.nearest, out);
    encoder.encode(out, codes, row * m);
    if (row % 4096 === 0) progress?.update(row);
  });
  progress?.stop();
  return { assignment, codes };
}

interface Encoded {
  assignment: Uint32Array;
  codes: Uint8Array;
  settings: IvfPqSettings;
}

/**
 * Each list's int8 rows (one piece, so its blocks lie together in one file), then the list. Rows keep
 * their ascending order: grouping a list's rows by their second-nearest centroid, to put a query's
 * candidates in fewer blocks, read 643 KB a cold query against 645 (200k rows; ivf-pq-scale.ts), not
 * worth giving up the ids' gap encoding.
 */
function writeLists(rows: ShardRows, encoded: Encoded, listFiles: RollingFiles, rowFiles: RollingFiles, progress?: Progress): IvfPqQuantizer['directory'] {
  const { assignment, codes, settings } = encoded;
  const m = settings.subquantizers;
  const members = membersByList(assignment, settings.lists);
  progress?.start('IVF-PQ: writing the lists', settings.lists);
  const directory = members.map((listRows, list) => {
    progress?.update(list);
    if (listRows.length === 0) return { rows: 0, range: null };
    const blocks: Uint8Array[] = [];
    for (let start = 0; start < listRows.length; start += settings.rowsPerBlock) blocks.push(encodeVectorShard(rows.read(listRows.subarray(start, start + settings.rowsPerBlock))));
    const bytes = joinBytes(blocks);
    if (bytes.byteLength > MAX_SHARD_BYTES) throw new Error(`IVF-PQ list ${list} holds ${listRows.length} rows, more than one file may hold: build with more lists`);
    const placed: FileRange = rowFiles.append(bytes);
    const listCodes = new Uint8Array(listRows.length * m);
    listRows.forEach((row, i) => listCodes.set(codes.subarray(row * m, (row + 1) * m), i * m));
    const range = listFiles.append(encodeList({ rows: listRows, codes: listCodes, blocks: { file: placed.file, offset: placed.offset, checksums: blocks.map(rangeChecksumSync) } }));
    return { rows: listRows.length, range };
  });
  progress?.stop();
  return directory;
}

/** Each list's rows, ascending (a counting sort over the assignment). */
function membersByList(assignment: Uint32Array, lists: number): Uint32Array[] {
  const sizes = new Uint32Array(lists);
  for (const list of assignment) sizes[list] = (sizes[list] as number) + 1;
  const members = Array.from(sizes, (size) => new Uint32Array(size));
  const filled = new Uint32Array(lists);
  assignment.forEach((list, row) => {
    (members[list] as Uint32Array)[filled[list] as number] = row;
    filled[list] = (filled[list] as number) + 1;
  });
  return members;
}

/** The build's int8 row shards on disk: swept in order, sampled, or read row by row. */
class ShardRows {
  private readonly fds = new Map<number, number>();

  constructor(
    private readonly dir: string,
    private readonly shards: readonly RowShard[],
    private readonly dimension: number,
  ) {}

  /** Every row in order, dequantized (the callback's vector is reused). */
  forEach(callback: (row: number, vector: Float32Array) => void): void {
    for (const shard of this.shards) {
      const vectors = decodeVectorShard(readFileSync(join(this.dir, shard.path)), shard.count, this.dimension);
      for (let i = 0; i < shard.count; i++) callback(shard.first + i, dequantizeRow(vectors, i));
    }
  }

  /** `size` rows at random, dequantized, row after row. */
  sample(size: number, random: () => number): Float32Array {
    const count = this.shards.reduce((sum, s) => sum + s.count, 0);
    const picked = new Uint8Array(count);
    for (let left = size; left > 0; ) {
      const row = Math.floor(random() * count);
      if (!picked[row]) {
        picked[row] = 1;
        left--;
      }
    }
    const out = new Float32Array(size * this.dimension);
    let at = 0;
    this.forEach((row, vector) => {
      if (picked[row]) out.set(vector, at++ * this.dimension);
    });
    return out;
  }

  /** The int8 codes and scales of `rows`, read from their shards. */
  read(rows: Uint32Array): Int8Vectors {
    const { dimension } = this;
    const codes = new Int8Array(rows.length * dimension);
    const scales = new Float32Array(rows.length);
    const scale = new Uint8Array(4);
    rows.forEach((row, i) => {
      const s = this.shardOf(row);
      const shard = this.shards[s] as RowShard;
      const fd = this.fd(s);
      const at = row - shard.first;
      // A vector shard is its rows' scales, then their codes (shard-codec.ts).
      readSync(fd, scale, 0, 4, at * 4);
      scales[i] = new DataView(scale.buffer).getFloat32(0, true);
      readSync(fd, new Uint8Array(codes.buffer, i * dimension, dimension), 0, dimension, shard.count * 4 + at * dimension);
    });
    return { dimension, codes, scales };
  }

  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  private shardOf(row: number): number {
    let lo = 0;
    let hi = this.shards.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.shards[mid] as RowShard).first <= row) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private fd(shard: number): number {
    let fd = this.fds.get(shard);
    if (fd === undefined) {
      fd = openSync(join(this.dir, (this.shards[shard] as RowShard).path), 'r');
      this.fds.set(shard, fd);
    }
    return fd;
  }
}
