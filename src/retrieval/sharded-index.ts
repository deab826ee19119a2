/**
 * A built index, opened from its manifest: the lexical index and the vectors are loaded up front (every
 * search needs them), passage texts shard by shard when a hit first lands in one, kept under a byte
 * budget (passage-shards.ts). Pure TypeScript: the retrieval worker runs it in the browser, the
 * benchmarks and tests in Node.
 */
import type { Embedder } from '../core/embedder.ts';
import type { IndexManifest, ShardFile } from '../core/index-manifest.ts';
import { RETRIEVAL_MODES, type Document, type Passage, type RetrievalMode } from '../core/retriever.ts';
import { FlatInt8Index } from './flat-index.ts';
import { reciprocalRankFusion, type RankedRow } from './fusion.ts';
import { LexicalIndex } from './lexical-index.ts';
import { PassageShards } from './passage-shards.ts';
import { decodeVectorShard, joinBytes } from './shard-codec.ts';
import type { FetchShard } from './shard-source.ts';

export { RETRIEVAL_MODES, type RetrievalMode };

export interface OpenProgress {
  text: string;
  loaded: number;
  total: number;
}

export interface OpenOptions {
  fetchShard: FetchShard;
  /** Must be the embedder the vectors were built with; without it only lexical search is offered. */
  embedder: Embedder | null;
  /** Why the embedder could not be loaded, shown to the user instead of dense search. */
  embedderError?: string;
  onProgress?: (progress: OpenProgress) => void;
  /** Bytes of passage shards kept decoded in memory; the least recently used beyond it are dropped
   * (DEFAULT_PASSAGE_BUDGET_BYTES when absent; Infinity keeps every shard). */
  passageBudgetBytes?: number;
}

/** What the index holds in memory beyond the lexical index's objects. */
export interface IndexMemory {
  /** The vectors' bytes (in wasm memory with the SIMD kernel). */
  vectorBytes: number;
  passageShards: number;
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

/** Candidates drawn from each list before fusion: enough that a passage ranked low by one method but
 * high by the other can still make the top k. */
const FUSION_DEPTH = 4;

export class ShardedIndex {
  private constructor(
    readonly manifest: IndexManifest,
    private readonly fetchShard: FetchShard,
    private readonly passages: PassageShards,
    private readonly lexical: LexicalIndex,
    private readonly dense: { index: FlatInt8Index; embedder: Embedder } | null,
    /** Why dense and hybrid search are off, when they are. */
    readonly denseUnavailable: string | null,
  ) {}

  static async open(manifest: IndexManifest, options: OpenOptions): Promise<ShardedIndex> {
    const passages = new PassageShards(manifest.passages.shards, options.fetchShard, options.passageBudgetBytes);
    const vectors = manifest.vectors;
    const unavailable = denseProblem(manifest, options.embedder, options.embedderError);
    const eager = [...manifest.lexical.shards, ...(vectors && !unavailable ? vectors.shards : [])];
    const fetchAll = progressTracker(options, eager);
    const lexical = LexicalIndex.fromJSON(new TextDecoder().decode(joinBytes(await fetchAll(manifest.lexical.shards))));
    if (lexical.size !== manifest.passages.count) throw new Error(`the lexical index holds ${lexical.size} passages, the manifest says ${manifest.passages.count}`);
    let dense: { index: FlatInt8Index; embedder: Embedder } | null = null;
    if (vectors && options.embedder && !unavailable) {
      const index = new FlatInt8Index(vectors.embedder.dimension);
      const shards = await fetchAll(vectors.shards);
      vectors.shards.forEach((shard, i) => index.add(decodeVectorShard(shards[i] ?? new Uint8Array(0), shard.count, vectors.embedder.dimension)));
      dense = { index, embedder: options.embedder };
    }
    return new ShardedIndex(manifest, options.fetchShard, passages, lexical, dense, unavailable);
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
    const documents = await this.documents(ranked.map((hit) => hit.row));
    return ranked.map((hit, i) => ({ ...(documents[i] as Document), score: hit.score }));
  }

  /** Frees the query embedder (its model and wasm memory). */
  async dispose(): Promise<void> {
    await this.dense?.embedder.dispose();
  }

  get memory(): IndexMemory {
    return { vectorBytes: this.dense?.index.memoryBytes ?? 0, passageShards: this.passages.count, passageBytes: this.passages.bytes, passageBudgetBytes: this.passages.budgetBytes };
  }

  /** Drops every passage shard held in memory (a hit in one fetches it again); returns the bytes freed. */
  evictPassages(): number {
    return this.passages.clear();
  }

  /**
   * Fetches every passage shard through the shard source, so the index answers offline later (the
   * Cache API keeps them). Shards are kept decoded only while they fit the memory budget; the rest are
   * fetched, verified and let go.
   */
  async prefetch(onProgress?: (progress: OpenProgress) => void): Promise<void> {
    const shards = this.manifest.passages.shards;
    const total = shards.reduce((sum, s) => sum + s.bytes, 0);
    let done = 0;
    for (const [i, shard] of shards.entries()) {
      if (this.passages.has(i) || this.passages.fits(i)) await this.passages.get(i);
      else await this.fetchShard(shard);
      done += shard.bytes;
      onProgress?.({ text: 'passages', loaded: done, total });
    }
  }

  private async rank(query: string, mode: RetrievalMode, k: number, isStale?: () => boolean): Promise<RankedRow[]> {
    if (mode === 'lexical') return this.lexical.search(query, k);
    const dense = this.dense;
    if (!dense) throw new Error(`${mode} search is not available: ${this.denseUnavailable ?? 'no vectors'}`);
    const [vector] = await dense.embedder.embed([query], 'query');
    await checkStale(isStale);
    if (!vector) throw new Error('the embedder returned no vector for the query');
    if (mode === 'dense') return dense.index.search(vector, k);
    const depth = k * FUSION_DEPTH;
    return reciprocalRankFusion([dense.index.search(vector, depth), this.lexical.search(query, depth)], k);
  }

  /** Each shard asked for once, even when more shards than the budget holds share one result list. */
  private async documents(rows: readonly number[]): Promise<Document[]> {
    const shards = this.manifest.passages.shards;
    const located = rows.map((row) => {
      const index = shards.findIndex((s) => row >= s.first && row < s.first + s.count);
      const shard = shards[index];
      if (!shard) throw new Error(`row ${row} is outside the index`);
      return { index, offset: row - shard.first };
    });
    const distinct = [...new Set(located.map((l) => l.index))];
    const loaded = new Map(distinct.map((index) => [index, this.passages.get(index)]));
    return Promise.all(located.map(async ({ index, offset }) => (await loaded.get(index))?.[offset] as Document));
  }
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
      out.push(await options.fetchShard(shard, (bytes) => options.onProgress?.({ text: `index shard ${shard.path}`, loaded: done + bytes, total })));
      done += shard.bytes;
    }
    return out;
  };
}
