/**
 * The index build, streaming: passages flow in once, in corpus order; each batch is written to the
 * passage blocks, inverted into the lexical builder's in-memory run (spilled to disk when full) and, with
 * an embedder, embedded (resumably) into vector shards. At the end the lexical runs are merged into the
 * term dictionary and posting lists. Memory stays bounded by the run size and one batch, not the corpus.
 * File names carry a hash of their bytes, so a rebuild never overwrites a file an older manifest points
 * at; the manifest is renamed into place last, and only then are the old files removed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Embedder } from '../src/core/agent/embedder.ts';
import { INDEX_FORMAT, INDEX_VERSION, indexFiles, parseManifest, sumBytes, vectorShardBytes, type EmbedderSpec, type IndexManifest, type RowShard, type ShardFile, type VectorsSpec } from '../src/core/index/index-manifest.ts';
import type { Document } from '../src/core/agent/retriever.ts';
import type { FileRange } from '../src/retrieval/byte-codec.ts';
import { BM25_DEFAULTS } from '../src/retrieval/bm25.ts';
import { encodePassageTable, ROWS_PER_BLOCK } from '../src/retrieval/passage-store.ts';
import { encodePassageShard, encodeVectorShard } from '../src/retrieval/shard-codec.ts';
import { TOKENIZER_ID } from '../src/retrieval/tokenizer.ts';
import { quantizeInt8 } from '../src/retrieval/vectors.ts';
import { EmbeddingCache } from './embedding-cache.ts';
import { denseEncoding, type DenseChoice } from './dense-choice.ts';
import { LexicalBuilder } from './lexical-builder.ts';
import type { Progress } from './progress.ts';
import { RollingFiles } from './rolling-files.ts';

/** Bump when the file layout or chunking changes: every older index becomes stale. */
const BUILDER_FORMAT = 2;

export const MANIFEST_FILE = 'manifest.json';

/** Passages handled together: one embedding round, one flush of passage blocks. */
const BATCH = 1024;

export interface BuildInput {
  name: string;
  source: IndexManifest['source'];
  /** Passages in corpus order, already chunked and deduplicated; read once, as they come. */
  documents: Iterable<Document> | AsyncIterable<Document>;
  chunkWords: number;
}

export interface BuildOptions {
  outDir: string;
  /** The embedder and how the manifest names it; null builds a lexical-only index. */
  embedder: { instance: Embedder; spec: EmbedderSpec } | null;
  /** The largest file written (passage, lexical and vector files alike; one piece may exceed it). */
  shardBytes: number;
  cacheDir: string;
  batchSize?: number;
  signal?: AbortSignal;
  /** The merge's progress (reading the input reports its own). */
  progress?: Progress;
  /** Hears how many passages have their vector so far (from the resume cache or just embedded). */
  onEmbedded?: (passages: number) => void;
  /** The dense index: flat int8 rows, IVF-PQ, or by size (`auto`, the default; see denseEncoding). */
  dense?: DenseChoice;
}

export interface BuildReport {
  manifest: IndexManifest;
  embedded: number;
  fromCache: number;
  bytes: number;
}

/** The corpus held nothing to index (what reading it skipped says why). */
export class NoPassagesError extends Error {
  override name = 'NoPassagesError';

  constructor() {
    super('no passages to index');
  }
}

/** Everything that changes the output besides the passages themselves. */
export function builderKey(chunkWords: number, shardBytes: number, embedderId: string | null, dense: DenseChoice = 'auto'): string {
  return `sdg-index-builder/${BUILDER_FORMAT} chunk=${chunkWords} shard=${shardBytes} embedder=${embedderId ?? 'none'}${dense === 'auto' ? '' : ` dense=${dense}`}`;
}

export async function buildIndex(input: BuildInput, options: BuildOptions): Promise<BuildReport> {
  const { outDir } = options;
  mkdirSync(outDir, { recursive: true });
  // Scratch space of a build killed earlier is of no use: its runs describe rows it never finished.
  const work = join(outDir, '.building');
  rmSync(work, { recursive: true, force: true });
  const writer = new ShardWriter(outDir);
  const lexicalFiles = new RollingFiles(outDir, 'lexical', options.shardBytes);
  const passages = new PassageBlocks(new RollingFiles(outDir, 'passages', options.shardBytes));
  const lexical = new LexicalBuilder(join(work, 'runs'), BM25_DEFAULTS);
  const vectors = options.embedder ? new VectorShards(writer, options.embedder, options) : null;
  let batch: Document[] = [];
  const flush = async () => {
    passages.add(batch);
    for (const doc of batch) lexical.add(doc.title, doc.text);
    await vectors?.add(batch);
    batch = [];
  };
  for await (const document of input.documents) {
    options.signal?.throwIfAborted();
    batch.push(document);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  const count = passages.count;
  if (count === 0) throw new NoPassagesError();
  const built = lexical.finish(lexicalFiles, options.progress, options.signal);
  const passageFiles = passages.finish();
  const manifest = parseManifest({
    format: INDEX_FORMAT,
    version: INDEX_VERSION,
    name: input.name,
    source: input.source,
    builder: builderKey(input.chunkWords, options.shardBytes, options.embedder?.spec.id ?? null, options.dense),
    passages: { count, encoding: 'json-gzip-blocks', rowsPerBlock: ROWS_PER_BLOCK, table: writer.write('passage-table-000', 'bin', encodePassageTable({ rowsPerBlock: ROWS_PER_BLOCK, rows: count, blocks: passages.blocks })), files: passageFiles },
    lexical: { format: 'sdg-bm25', tokenizer: TOKENIZER_ID, ...BM25_DEFAULTS, impactScale: built.impactScale, terms: built.terms, dictionary: writer.write('dictionary-000', 'bin', built.dictionary), files: lexicalFiles.finish() },
    vectors: vectors && options.embedder ? await denseVectors(options.embedder.spec, vectors.finish(), count, writer, options) : null,
  });
  rmSync(work, { recursive: true, force: true });
  writer.commit(manifest);
  return { manifest, embedded: vectors?.computed ?? 0, fromCache: vectors?.fromCache ?? 0, bytes: sumBytes(indexFiles(manifest)) };
}

/** The int8 row shards as they are, or an IVF-PQ index built from them (the shards then go at commit:
 * no manifest names them). */
async function denseVectors(embedder: EmbedderSpec, shards: RowShard[], count: number, writer: ShardWriter, options: BuildOptions): Promise<VectorsSpec> {
  if (denseEncoding(options.dense ?? 'auto', count) === 'int8') return { embedder, encoding: 'int8', shards };
  // Loaded only here: it compiles its wasm kernel, which a flat or lexical build never needs.
  const { buildIvfPq, ivfPqSettings } = await import('./ivf-pq-builder.ts');
  const settings = ivfPqSettings(count, embedder.dimension);
  return { embedder, ...buildIvfPq({ dir: options.outDir, shards, dimension: embedder.dimension, count, settings, write: (stem, ext, bytes) => writer.write(stem, ext, bytes), shardBytes: options.shardBytes, ...(options.progress && { progress: options.progress }) }) };
}

/** Passages in gzip blocks of ROWS_PER_BLOCK rows, in row order. */
class PassageBlocks {
  readonly blocks: FileRange[] = [];
  count = 0;
  private pending: Document[] = [];

  constructor(private readonly files: RollingFiles) {}

  add(documents: readonly Document[]): void {
    for (const document of documents) {
      this.pending.push(document);
      this.count++;
      if (this.pending.length === ROWS_PER_BLOCK) this.writeBlock();
    }
  }

  finish(): ShardFile[] {
    if (this.pending.length) this.writeBlock();
    return this.files.finish();
  }

  private writeBlock(): void {
    // mtime 0 (zlib's default header): the same passages give the same bytes, so a rebuild is identical.
    this.blocks.push(this.files.append(gzipSync(encodePassageShard(this.pending), { level: 9 })));
    this.pending = [];
  }
}

/** Embeds each batch (what the resume cache lacks) and writes int8 vector shards as they fill. */
class VectorShards {
  computed = 0;
  fromCache = 0;
  private readonly shards: RowShard[] = [];
  private pending: Float32Array[] = [];
  private written = 0;
  private readonly cache: EmbeddingCache;
  private readonly rowsPerShard: number;

  constructor(
    private readonly writer: ShardWriter,
    private readonly embedder: NonNullable<BuildOptions['embedder']>,
    private readonly options: BuildOptions,
  ) {
    const { instance, spec } = embedder;
    if (instance.id !== spec.id || instance.dimension !== spec.dimension) throw new Error(`embedder ${instance.id} (${instance.dimension}-d) does not match its spec ${spec.id} (${spec.dimension}-d)`);
    this.cache = EmbeddingCache.open(embeddingCachePath(options.cacheDir, spec), spec.id, spec.dimension);
    this.rowsPerShard = Math.max(1, Math.floor(options.shardBytes / vectorShardBytes(1, spec.dimension)));
  }

  async add(documents: readonly Document[]): Promise<void> {
    const texts = documents.map(embeddingText);
    const missing = [...new Set(texts.filter((text) => !this.cache.get(text)))];
    const before = this.computed + this.fromCache + texts.length - missing.length;
    this.options.onEmbedded?.(before);
    await this.embed(missing, (done) => this.options.onEmbedded?.(before + done));
    this.computed += missing.length;
    this.fromCache += texts.length - missing.length;
    for (const text of texts) {
      this.pending.push(this.cache.get(text) ?? new Float32Array(0));
      if (this.pending.length === this.rowsPerShard) this.writeShard();
    }
  }

  finish(): RowShard[] {
    if (this.pending.length) this.writeShard();
    return this.shards;
  }

  /** Up to `parallelism` batches in flight; each is cached as soon as it is back, so a killed build
   * loses at most the batches that were running. */
  private async embed(texts: readonly string[], onDone: (texts: number) => void): Promise<void> {
    const { instance } = this.embedder;
    const size = this.options.batchSize ?? 16;
    const batches = Array.from({ length: Math.ceil(texts.length / size) }, (_, i) => texts.slice(i * size, (i + 1) * size));
    let done = 0;
    const embedNext = async (): Promise<void> => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        this.options.signal?.throwIfAborted();
        const vectors = await instance.embed(batch, 'passage');
        this.cache.append(batch.map((text, i) => ({ text, vector: vectors[i] ?? new Float32Array(0) })));
        onDone((done += batch.length));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, instance.parallelism ?? 1) }, embedNext));
  }

  private writeShard(): void {
    const { dimension } = this.embedder.spec;
    const bytes = encodeVectorShard(quantizeInt8(this.pending, dimension));
    this.shards.push({ ...this.writer.write(`vectors-${String(this.shards.length).padStart(3, '0')}`, 'bin', bytes), first: this.written, count: this.pending.length });
    this.written += this.pending.length;
    this.pending = [];
  }
}

/** One resume cache per embedder, shared by every build that uses it. */
export function embeddingCachePath(cacheDir: string, spec: EmbedderSpec): string {
  return join(cacheDir, `embeddings-${createHash('sha256').update(spec.id).digest('hex').slice(0, 12)}-${spec.dimension}.bin`);
}

/** The text a passage is embedded as: its title carries the topic the text often only implies. */
export function embeddingText(document: Document): string {
  return `${document.title}\n${document.text}`;
}

/** Our own shard names; anything else in the output folder is left alone. */
const SHARD_NAME = /^(passages|vectors|lexical|dictionary|passage-table|ivf-quantizer|ivf-lists|ivf-rows)-\d{3,}-[0-9a-f]{12}\.(json|bin)$/;

/** Writes whole files under names that carry their hash, and commits a manifest. */
class ShardWriter {
  constructor(private readonly dir: string) {}

  write(stem: string, ext: string, bytes: Uint8Array): ShardFile {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const path = `${stem}-${sha256.slice(0, 12)}.${ext}`;
    writeAtomically(join(this.dir, path), bytes);
    return { path, bytes: bytes.byteLength, sha256 };
  }

  /** The manifest goes into place last; only then are the files no manifest names any more removed
   * (an older build's, or a killed build's leftovers). */
  commit(manifest: IndexManifest): void {
    writeAtomically(join(this.dir, MANIFEST_FILE), JSON.stringify(manifest, null, 1));
    const kept = new Set(indexFiles(manifest).map((file) => file.path));
    for (const name of readdirSync(this.dir)) {
      if ((SHARD_NAME.test(name) || name.endsWith('.partial')) && !kept.has(name)) rmSync(join(this.dir, name));
    }
  }
}

function writeAtomically(path: string, data: Uint8Array | string): void {
  writeFileSync(`${path}.partial`, data);
  renameSync(`${path}.partial`, path);
}
