/**
 * A built index, opened from its manifest. On open only small metadata is fetched (the term dictionary's
 * page lines, the passage table) and, for an index with vectors, the vectors (every int8 row of a flat
 * index; an IVF-PQ index's quantizer only); a query then fetches the dictionary pages and posting lists
 * of its terms, an IVF-PQ index's nearest lists and re-ranked rows, and the passage blocks of its hits,
 * each range verified by its checksum and kept under a byte budget. Pure TypeScript: the retrieval worker runs it in the
 * browser, the search CLI, benchmarks and tests in Node.
 */
import type { Embedder } from '../core/agent/embedder.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { bytesProgress, type LoadProgress } from '../core/util/load-progress.ts';
import { eagerVectorFiles, indexFiles, sumBytes, type IndexManifest, type ShardFile, type VectorsSpec } from '../core/index/index-manifest.ts';
import { RETRIEVAL_MODES, type Document, type Passage, type RetrievalMode } from '../core/agent/retriever.ts';
import { FlatInt8Index } from './flat-index.ts';
import { reciprocalRankFusion } from './fusion.ts';
import { IvfPqIndex } from './ivf-pq-index.ts';
import type { RankedRow } from './ranked-row.ts';
import { DEFAULT_LEXICAL_BUDGET_BYTES, LexicalIndex } from './lexical-index.ts';
import { decodePassageTable, PassageStore } from './passage-store.ts';
import { inFiles, type FetchRange } from './range-source.ts';
import { decodeVectorShard } from './shard-codec.ts';
import type { FetchShard } from './shard-source.ts';

export { RETRIEVAL_MODES, type RetrievalMode };

export interface OpenOptions {
  /** Whole files: the dictionary, the passage table, vector shards. */
  fetchShard: FetchShard;
  /** Checksummed ranges of the lexical and passage files. */
  fetchRange: FetchRange;
  /** Must be the embedder the vectors were built with; without it only lexical search is offered. */
  embedder: Embedder | null;
  /** Why the embedder could not be loaded, shown to the user instead of dense search. */
  embedderError?: string;
  onProgress?: (progress: LoadProgress) => void;
  /** Bytes of passage blocks kept decoded in memory (DEFAULT_PASSAGE_BUDGET_BYTES when absent). */
  passageBudgetBytes?: number;
  /** Bytes of dictionary pages and posting lists kept (DEFAULT_LEXICAL_BUDGET_BYTES when absent). */
  lexicalBudgetBytes?: number;
}

/** What the index holds in memory. */
export interface IndexMemory {
  /** The vectors' bytes (in wasm memory with the SIMD kernel). */
  vectorBytes: number;
  lexicalBytes: number;
  passageBlocks: number;
  passageBytes: number;
  passageBudgetBytes: number;
}

export interface SearchOptions {
  mode: RetrievalMode;
  k: number;
  /** Checked between the slow steps: a query overtaken by a newer one stops early. */
  isStale?: () => boolean;
}

export class StaleQueryError extends Error {
  constructor() {
    super('a newer query replaced this one');
    this.name = 'StaleQueryError';
  }
}

/** A whole offline copy is made of indexes up to this size: the demo's 3 MB, a 100k-passage index's
 * 45 MB; a Wikipedia-sized one (431 MB at 1M passages) would fill a browser's quota for little use. */
export const OFFLINE_COPY_MAX_BYTES = 256 * 1024 * 1024;

/** Candidates drawn from each list before fusion: enough that a passage ranked low by one method but
 * high by the other can still make the top k. */
const FUSION_DEPTH = 4;

export class ShardedIndex {
  private constructor(
    readonly manifest: IndexManifest,
    private readonly passages: PassageStore,
    private readonly lexical: LexicalIndex,
    private readonly dense: { index: FlatInt8Index | IvfPqIndex; embedder: Embedder } | null,
    /** Why dense and hybrid search are off, when they are. */
    readonly denseUnavailable: string | null,
  ) {}

  static async open(manifest: IndexManifest, options: OpenOptions): Promise<ShardedIndex> {
    const { passages, lexical: spec, vectors } = manifest;
    const unavailable = denseProblem(manifest, options.embedder, options.embedderError);
    const eager = [spec.dictionary, passages.table, ...(unavailable ? [] : eagerVectorFiles(vectors))];
    const fetchAll = progressTracker(options, eager);
    const [dictionary, table] = await fetchAll([spec.dictionary, passages.table]);
    const lexical = LexicalIndex.open(spec, passages.count, dictionary ?? new Uint8Array(0), inFiles(spec.files, options.fetchRange), options.lexicalBudgetBytes ?? DEFAULT_LEXICAL_BUDGET_BYTES);
    const store = new PassageStore(decodePassageTable(table ?? new Uint8Array(0), passages.files.length, passages.count, `the passage table ${passages.table.path}`), inFiles(passages.files, options.fetchRange), options.passageBudgetBytes);
    const dense = vectors && options.embedder && !unavailable ? { index: await openDense(vectors, fetchAll, options.fetchRange), embedder: options.embedder } : null;
    return new ShardedIndex(manifest, store, lexical, dense, unavailable);
  }

  get size(): number {
    return this.manifest.passages.count;
  }

  get modes(): RetrievalMode[] {
    return this.dense ? [...RETRIEVAL_MODES] : ['lexical'];
  }

  async search(query: string, options: SearchOptions): Promise<Passage[]> {
    const k = Math.max(0, Math.floor(options.k));
    if (k === 0 || !query.trim()) return [];
    await checkStale(options.isStale);
    const ranked = await this.rank(query, options.mode, k, options.isStale);
    await checkStale(options.isStale);
    const documents = await this.passages.documents(ranked.map((hit) => hit.row));
    return ranked.map((hit, i) => ({ ...(documents[i] as Document), score: hit.score }));
  }

  /** Frees the query embedder (its model and wasm memory). */
  async dispose(): Promise<void> {
    await this.dense?.embedder.dispose();
  }

  get memory(): IndexMemory {
    const passages = this.passages.memory;
    return { vectorBytes: this.dense?.index.memoryBytes ?? 0, lexicalBytes: this.lexical.memoryBytes, passageBlocks: passages.blocks, passageBytes: passages.bytes, passageBudgetBytes: passages.budgetBytes };
  }

  /** Drops the passage blocks and lexical pages held in memory (a query fetches what it needs again,
   * from the cache when it is there); returns the bytes freed. */
  trim(): number {
    return this.passages.clear() + this.lexical.clear() + (this.dense?.index instanceof IvfPqIndex ? this.dense.index.clear() : 0);
  }

  /** The bytes of all its files: what a full offline copy takes. */
  get bytes(): number {
    return sumBytes(indexFiles(this.manifest));
  }

  /**
   * Fetches every range a query could need through the range source, so the index answers offline
   * later (the Cache API keeps them); nothing is kept in memory. An index larger than `maxBytes` is
   * left as it is (its searched parts are kept as they are fetched): returns whether it was copied.
   */
  async prefetch(onProgress?: (progress: LoadProgress) => void, maxBytes = OFFLINE_COPY_MAX_BYTES): Promise<boolean> {
    if (this.bytes > maxBytes) return false;
    const total = this.passages.blockCount;
    await this.passages.fetchAll((done) => onProgress?.({ text: 'passages', fraction: done / total }));
    await this.lexical.fetchAll((done, all) => onProgress?.({ text: 'lexical index', fraction: done / all }));
    if (this.dense?.index instanceof IvfPqIndex) await this.dense.index.fetchAll((done, all) => onProgress?.({ text: 'dense index', fraction: done / all }));
    return true;
  }

  private async rank(query: string, mode: RetrievalMode, k: number, isStale?: () => boolean): Promise<RankedRow[]> {
    if (mode === 'lexical') return this.lexical.search(query, k);
    const dense = this.dense;
    if (!dense) throw new Error(`${mode} search is not available: ${this.denseUnavailable ?? 'no vectors'}`);
    const vector = await embedQuery(dense.embedder, query, mode);
    await checkStale(isStale);
    if (mode === 'dense') return dense.index.search(vector, k);
    const depth = k * FUSION_DEPTH;
    const [byVector, byWords] = await Promise.all([dense.index.search(vector, depth), this.lexical.search(query, depth)]);
    return reciprocalRankFusion([byVector, byWords], k);
  }
}

/** The query's vector; an embedder that fails (a server down, slow or refusing) fails this search
 * only, saying that lexical search does not need it. */
async function embedQuery(embedder: Embedder, query: string, mode: RetrievalMode): Promise<Float32Array> {
  let vector: Float32Array | undefined;
  try {
    [vector] = await embedder.embed([query], 'query');
  } catch (error) {
    throw new Error(`${mode} search could not embed the query with ${embedder.id}: ${errorMessage(error)}. Lexical search still works (Settings → Retrieval).`, { cause: error });
  }
  if (!vector) throw new Error('the embedder returned no vector for the query');
  return vector;
}

/** The flat scan, its int8 rows fetched whole now; or IVF-PQ, its quantizer now and its lists by range per query. */
async function openDense(vectors: VectorsSpec, fetchAll: (shards: readonly ShardFile[]) => Promise<Uint8Array[]>, fetchRange: FetchRange): Promise<FlatInt8Index | IvfPqIndex> {
  const { dimension } = vectors.embedder;
  if (vectors.encoding === 'ivf-pq') {
    const [quantizer] = await fetchAll([vectors.quantizer]);
    return IvfPqIndex.open(vectors, quantizer ?? new Uint8Array(0), inFiles(vectors.files, fetchRange), inFiles(vectors.rowFiles, fetchRange));
  }
  const index = new FlatInt8Index(dimension);
  const shards = await fetchAll(vectors.shards);
  vectors.shards.forEach((shard, i) => index.add(decodeVectorShard(shards[i] ?? new Uint8Array(0), shard.count, dimension)));
  return index;
}

/**
 * Lets queued messages run first (a newer query, a cancel), then throws if this query lost its turn.
 * A macrotask is needed: the embedder's awaits resolve as microtasks, which never let messages in.
 */
async function checkStale(isStale?: () => boolean): Promise<void> {
  if (!isStale) return;
  await new Promise((resolve) => setTimeout(resolve, 0));
  if (isStale()) throw new StaleQueryError();
}

function denseProblem(manifest: IndexManifest, embedder: Embedder | null, embedderError?: string): string | null {
  const spec = manifest.vectors?.embedder;
  if (!spec) return 'the index was built without vectors';
  if (!embedder) return `the query embedder (${spec.id}) could not be loaded${embedderError ? `: ${embedderError}` : ''}`;
  if (embedder.id !== spec.id || embedder.dimension !== spec.dimension) {
    return `the index was built with ${spec.id} (${spec.dimension}-d) but queries would be embedded with ${embedder.id} (${embedder.dimension}-d)`;
  }
  return null;
}

/** Fetches groups of shards in order, reporting bytes over all of `planned`. */
function progressTracker(options: OpenOptions, planned: readonly ShardFile[]) {
  const total = planned.reduce((sum, s) => sum + s.bytes, 0);
  let done = 0;
  return async (shards: readonly ShardFile[]): Promise<Uint8Array[]> => {
    const out: Uint8Array[] = [];
    for (const shard of shards) {
      out.push(await options.fetchShard(shard, (bytes) => options.onProgress?.(bytesProgress(`index shard ${shard.path}`, done + bytes, total))));
      done += shard.bytes;
    }
    return out;
  };
}
