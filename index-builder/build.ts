/**
 * The index build: passages -> embeddings (resumable) -> bounded shards + lexical index -> manifest.
 * Shard names carry a hash of their bytes, so a rebuild never overwrites a file an older manifest
 * points at; the manifest is renamed into place last, and only then are the old shards removed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Embedder } from '../src/core/embedder.ts';
import { INDEX_FORMAT, INDEX_VERSION, parseManifest, vectorShardBytes, type EmbedderSpec, type IndexManifest, type RowShard, type ShardFile } from '../src/core/index-manifest.ts';
import type { Document } from '../src/core/retriever.ts';
import { LexicalIndex } from '../src/retrieval/lexical-index.ts';
import { encodePassageShard, encodeVectorShard, splitBytes } from '../src/retrieval/shard-codec.ts';
import { quantizeInt8 } from '../src/retrieval/vectors.ts';
import { EmbeddingCache } from './embedding-cache.ts';

/** Bump when the shard layout or chunking changes: every older index becomes stale. */
const BUILDER_FORMAT = 1;

export const MANIFEST_FILE = 'manifest.json';

export interface Progress {
  start(phase: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

export interface BuildInput {
  name: string;
  source: IndexManifest['source'];
  documents: readonly Document[];
  chunkWords: number;
}

export interface BuildOptions {
  outDir: string;
  /** The embedder and how the manifest names it; null builds a lexical-only index. */
  embedder: { instance: Embedder; spec: EmbedderSpec } | null;
  shardBytes: number;
  cacheDir: string;
  batchSize?: number;
  signal?: AbortSignal;
  progress?: Progress;
}

export interface BuildReport {
  manifest: IndexManifest;
  embedded: number;
  fromCache: number;
  bytes: number;
}

/** Everything that changes the output besides the passages themselves. */
export function builderKey(chunkWords: number, shardBytes: number, embedderId: string | null): string {
  return `sdg-index-builder/${BUILDER_FORMAT} chunk=${chunkWords} shard=${shardBytes} embedder=${embedderId ?? 'none'}`;
}

export async function buildIndex(input: BuildInput, options: BuildOptions): Promise<BuildReport> {
  const { documents } = input;
  if (documents.length === 0) throw new Error('no passages to index');
  const embedded = options.embedder ? await embedAll(documents, options.embedder, options) : null;
  mkdirSync(options.outDir, { recursive: true });
  const writer = new ShardWriter(options.outDir);
  const passages = writeRowShards(writer, 'passages', 'json', documents, options.shardBytes, (docs) => encodePassageShard(docs));
  const lexicalBytes = new TextEncoder().encode(LexicalIndex.build(documents).toJSON());
  const lexical = splitBytes(lexicalBytes, options.shardBytes).map((part, i) => writer.write(`lexical-${pad(i)}`, 'json', part));
  const manifest = parseManifest({
    format: INDEX_FORMAT,
    version: INDEX_VERSION,
    name: input.name,
    source: input.source,
    builder: builderKey(input.chunkWords, options.shardBytes, options.embedder?.spec.id ?? null),
    passages: { count: documents.length, shards: passages },
    lexical: { library: 'minisearch', shards: lexical },
    vectors: embedded && options.embedder ? { embedder: options.embedder.spec, encoding: 'int8', shards: writeVectorShards(writer, embedded.vectors, options.embedder.spec.dimension, options.shardBytes) } : null,
  });
  writer.commit(manifest);
  return { manifest, embedded: embedded?.computed ?? 0, fromCache: embedded?.fromCache ?? 0, bytes: writer.bytes };
}

/** One resume cache per embedder, shared by every build that uses it. */
export function embeddingCachePath(cacheDir: string, spec: EmbedderSpec): string {
  return join(cacheDir, `embeddings-${createHash('sha256').update(spec.id).digest('hex').slice(0, 12)}-${spec.dimension}.bin`);
}

/** The text a passage is embedded as: its title carries the topic the text often only implies. */
export function embeddingText(document: Document): string {
  return `${document.title}\n${document.text}`;
}

async function embedAll(documents: readonly Document[], embedder: NonNullable<BuildOptions['embedder']>, options: BuildOptions) {
  const { instance, spec } = embedder;
  if (instance.id !== spec.id || instance.dimension !== spec.dimension) throw new Error(`embedder ${instance.id} (${instance.dimension}-d) does not match its spec ${spec.id} (${spec.dimension}-d)`);
  const cache = EmbeddingCache.open(embeddingCachePath(options.cacheDir, spec), spec.id, spec.dimension);
  const texts = documents.map(embeddingText);
  const missing = texts.filter((text) => !cache.get(text));
  const batchSize = options.batchSize ?? 16;
  const batches = Array.from({ length: Math.ceil(missing.length / batchSize) }, (_, i) => missing.slice(i * batchSize, (i + 1) * batchSize));
  options.progress?.start(`embedding with ${spec.id}`, missing.length);
  let done = 0;
  // Up to `parallelism` batches in flight; each is cached as soon as it is back, so a killed build
  // loses at most the batches that were running.
  const embedNext = async (): Promise<void> => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      options.signal?.throwIfAborted();
      const vectors = await instance.embed(batch, 'passage');
      cache.append(batch.map((text, i) => ({ text, vector: vectors[i] ?? new Float32Array(0) })));
      options.progress?.update((done += batch.length));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, instance.parallelism ?? 1) }, embedNext));
  options.progress?.stop();
  const vectors = texts.map((text) => cache.get(text) ?? new Float32Array(0));
  return { vectors, computed: missing.length, fromCache: texts.length - missing.length };
}

function writeRowShards(writer: ShardWriter, kind: string, ext: string, documents: readonly Document[], shardBytes: number, encode: (docs: readonly Document[]) => Uint8Array): RowShard[] {
  const shards: RowShard[] = [];
  let first = 0;
  while (first < documents.length) {
    const count = rowsThatFit(documents, first, shardBytes, encode);
    const bytes = encode(documents.slice(first, first + count));
    shards.push({ ...writer.write(`${kind}-${pad(shards.length)}`, ext, bytes), first, count });
    first += count;
  }
  return shards;
}

/** Greedy by the encoded size of each passage (JSON of an array is the sum of its parts plus commas). */
function rowsThatFit(documents: readonly Document[], first: number, shardBytes: number, encode: (docs: readonly Document[]) => Uint8Array): number {
  let bytes = 2;
  let count = 0;
  for (let row = first; row < documents.length; row++) {
    const doc = documents[row];
    if (!doc) break;
    const size = encode([doc]).byteLength - 2 + 1;
    if (count > 0 && bytes + size > shardBytes) break;
    bytes += size;
    count++;
  }
  return count;
}

function writeVectorShards(writer: ShardWriter, vectors: readonly Float32Array[], dimension: number, shardBytes: number): RowShard[] {
  const rowsPerShard = Math.max(1, Math.floor(shardBytes / vectorShardBytes(1, dimension)));
  const shards: RowShard[] = [];
  for (let first = 0; first < vectors.length; first += rowsPerShard) {
    const rows = vectors.slice(first, first + rowsPerShard);
    const bytes = encodeVectorShard(quantizeInt8(rows, dimension));
    shards.push({ ...writer.write(`vectors-${pad(shards.length)}`, 'bin', bytes), first, count: rows.length });
  }
  return shards;
}

const pad = (n: number) => String(n).padStart(3, '0');

/** Our own shard names; anything else in the output folder is left alone. */
const SHARD_NAME = /^(passages|vectors|lexical)-\d{3,}-[0-9a-f]{12}\.(json|bin)$/;

class ShardWriter {
  bytes = 0;
  private readonly written = new Set<string>();

  constructor(private readonly dir: string) {}

  write(stem: string, ext: string, bytes: Uint8Array): ShardFile {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const path = `${stem}-${sha256.slice(0, 12)}.${ext}`;
    writeAtomically(join(this.dir, path), bytes);
    this.written.add(path);
    this.bytes += bytes.byteLength;
    return { path, bytes: bytes.byteLength, sha256 };
  }

  commit(manifest: IndexManifest): void {
    writeAtomically(join(this.dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
    for (const name of readdirSync(this.dir)) {
      if (SHARD_NAME.test(name) && !this.written.has(name)) rmSync(join(this.dir, name));
    }
  }
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  writeFileSync(`${path}.partial`, data);
  renameSync(`${path}.partial`, path);
}
