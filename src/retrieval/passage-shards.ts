/**
 * Passage-text shards held in memory under a byte budget. A shard is fetched and decoded when a hit
 * first lands in it; beyond the budget the least recently used shards are dropped, and fetched again
 * (from the Cache API when it holds them, checksum-verified either way) if a later hit needs them.
 *
 * Shards are counted by their size on the wire: decoded, mostly Latin-1 text costs V8 about as much
 * (one byte a character, plus a few dozen bytes an object): 1.05 bytes of heap a shard byte at 100k
 * synthetic passages (test/bench/memory.ts).
 */
import type { RowShard } from '../core/index-manifest.ts';
import type { Document } from '../core/retriever.ts';
import { decodePassageShard } from './shard-codec.ts';
import type { FetchShard } from './shard-source.ts';

/** About 100k passages of 100 words (67 MB of shards), some 70 MB of heap: beside a 100k index's
 * BM25 (about 460 MB of heap, measured by the same bench) the texts are not what runs a worker out. */
export const DEFAULT_PASSAGE_BUDGET_BYTES = 64 * 1024 * 1024;

interface Held {
  bytes: number;
  documents: Promise<Document[]>;
}

export class PassageShards {
  /** In use order, least recent first (a Map iterates in insertion order; a hit re-inserts). */
  private readonly held = new Map<number, Held>();
  private heldBytes = 0;

  constructor(
    private readonly shards: readonly RowShard[],
    private readonly fetchShard: FetchShard,
    readonly budgetBytes: number = DEFAULT_PASSAGE_BUDGET_BYTES,
  ) {
    if (!(budgetBytes >= 0)) throw new Error(`the passage memory budget must be a number of bytes ≥ 0, got ${budgetBytes}`);
  }

  /** Bytes of the shards in memory (or being fetched into it). */
  get bytes(): number {
    return this.heldBytes;
  }

  get count(): number {
    return this.held.size;
  }

  has(index: number): boolean {
    return this.held.has(index);
  }

  /** Whether shard `index` would fit beside those held without dropping any. */
  fits(index: number): boolean {
    return this.heldBytes + (this.shards[index]?.bytes ?? Infinity) <= this.budgetBytes;
  }

  /** A shard's passages: one fetch shared by concurrent callers; a failed fetch is forgotten so it can
   * be retried. Callers keep what they were given even if the shard is dropped meanwhile. */
  get(index: number): Promise<Document[]> {
    const held = this.held.get(index);
    if (held) {
      this.held.delete(index);
      this.held.set(index, held);
      return held.documents;
    }
    const shard = this.shards[index];
    if (!shard) return Promise.reject(new Error(`no passage shard ${index}`));
    const entry: Held = { bytes: shard.bytes, documents: this.fetchShard(shard).then((bytes) => decodePassageShard(bytes, shard.count)) };
    entry.documents.catch(() => {
      // Only this attempt's entry: the shard may have been dropped and fetched again since.
      if (this.held.get(index) === entry) this.drop(index, entry);
    });
    this.held.set(index, entry);
    this.heldBytes += entry.bytes;
    this.shrinkTo(this.budgetBytes);
    return entry.documents;
  }

  /** Drops every shard held; returns the bytes freed. */
  clear(): number {
    const freed = this.heldBytes;
    this.held.clear();
    this.heldBytes = 0;
    return freed;
  }

  /** Drops least recently used shards until `bytes` or less are held. The newest stays: with a budget
   * smaller than one shard, repeated hits in one shard still come from memory. */
  private shrinkTo(bytes: number): void {
    for (const [index, entry] of this.held) {
      if (this.heldBytes <= bytes || this.held.size <= 1) return;
      this.drop(index, entry);
    }
  }

  private drop(index: number, entry: Held): void {
    this.held.delete(index);
    this.heldBytes -= entry.bytes;
  }
}
