/** Synthetic dense vectors and IVF-PQ indexes built from them by the builder's own code, for the IVF-PQ
 * benchmark and tests. */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIvfPq, type IvfPqSettings } from '../index-builder/ivf-pq-builder.ts';
import { fileFetch } from '../index-builder/file-fetch.ts';
import { seededRandom } from '../src/core/agent/noise.ts';
import type { IvfPqVectors, RowShard, ShardFile } from '../src/core/index/index-manifest.ts';
import { IvfPqIndex, type IvfPqBudgets } from '../src/retrieval/ivf-pq-index.ts';
import { inFiles, rangeSource } from '../src/retrieval/range-source.ts';
import { encodeVectorShard } from '../src/retrieval/shard-codec.ts';
import { normalize, type Int8Vectors } from '../src/retrieval/vectors.ts';

/**
 * A mixture like text embeddings': 256 topics (random unit vectors), 16 clusters a topic (the topic plus
 * gaussian noise of norm 0.8, normalised), and rows around a random cluster (noise of norm 1.0,
 * normalised). A row's cosine with its cluster's other rows is about 0.5, with a sibling cluster's
 * about 0.3, with anything else about 0.
 */
export class ClusteredVectors {
  private readonly random: () => number;
  private readonly clusters: Float32Array[];

  constructor(
    readonly dimension: number,
    seed: number,
    topics = 256,
    clustersPerTopic = 16,
  ) {
    this.random = seededRandom(seed);
    const topicVectors = Array.from({ length: topics }, () => this.around(null, 1));
    this.clusters = topicVectors.flatMap((topic) => Array.from({ length: clustersPerTopic }, () => this.around(topic, 0.8)));
  }

  draw(): Float32Array {
    return this.around(this.clusters[Math.floor(this.random() * this.clusters.length)] ?? null, 1);
  }

  /** `center` plus gaussian noise of about `spread` norm, normalised (a random unit vector without a center). */
  private around(center: Float32Array | null, spread: number): Float32Array {
    const scale = spread / Math.sqrt(this.dimension);
    const v = new Float32Array(this.dimension);
    for (let i = 0; i < this.dimension; i++) v[i] = (center?.[i] ?? 0) + this.gaussian() * (center ? scale : 1);
    return normalize(v);
  }

  private gaussian(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }
}

/** A file in `dir` named by its hash, as the builder names its files. */
export function writeHashed(dir: string, stem: string, ext: string, bytes: Uint8Array): ShardFile {
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const path = `${stem}-${sha256.slice(0, 12)}.${ext}`;
  writeFileSync(join(dir, path), bytes);
  return { path, bytes: bytes.byteLength, sha256 };
}

/** Blocks of rows written as the builder's int8 row shards, in order. */
export function writeRowShards(dir: string, blocks: Iterable<Int8Vectors>): RowShard[] {
  const shards: RowShard[] = [];
  let first = 0;
  for (const block of blocks) {
    shards.push({ ...writeHashed(dir, `vectors-${String(shards.length).padStart(3, '0')}`, 'bin', encodeVectorShard(block)), first, count: block.scales.length });
    first += block.scales.length;
  }
  return shards;
}

/** The IVF-PQ index of the row shards in `dir`, as the builder writes it (files in `dir`). */
export function buildIvfPqIn(dir: string, shards: readonly RowShard[], dimension: number, settings: IvfPqSettings): IvfPqVectors {
  const count = shards.reduce((sum, s) => sum + s.count, 0);
  const files = buildIvfPq({ dir, shards, dimension, count, settings, write: (stem, ext, bytes) => writeHashed(dir, stem, ext, bytes), shardBytes: 2 * 1024 * 1024 });
  return { embedder: { kind: 'use-lite', id: 'synthetic', model: 'synthetic', dimension }, ...files };
}

/** What an opened index has read by range: bytes, and each range's file and offset. */
export interface ReadLog {
  bytes: number;
  ranges: string[];
}

/** Opens the index over its files through the checksum-verifying range source, logging every range read. */
export async function openIvfPqIn(dir: string, spec: IvfPqVectors, budgets: IvfPqBudgets = {}): Promise<{ index: IvfPqIndex; read: ReadLog }> {
  const read: ReadLog = { bytes: 0, ranges: [] };
  const fetchRange = rangeSource({ base: pathToFileURL(`${dir}/`), fetch: fileFetch, onFetched: (bytes) => (read.bytes += bytes) });
  const logged: typeof fetchRange = (range) => {
    read.ranges.push(`${range.path}@${range.offset}`);
    return fetchRange(range);
  };
  const quantizer = new Uint8Array(await (await fileFetch(pathToFileURL(join(dir, spec.quantizer.path)))).arrayBuffer());
  return { index: IvfPqIndex.open(spec, quantizer, inFiles(spec.files, logged), inFiles(spec.rowFiles, logged), budgets), read };
}
