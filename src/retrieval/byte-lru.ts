/**
 * Values loaded on demand and kept under a byte budget, least recently used dropped first: the lexical
 * index's dictionary pages and posting lists, the passage store's blocks. Concurrent callers of one key
 * share one load; a failed load is forgotten so that the next call tries again. The newest value stays
 * even when it alone exceeds the budget, so a budget smaller than one value still serves repeated hits.
 */

interface Held<V> {
  bytes: number;
  value: Promise<V>;
}

export class ByteLru<K, V> {
  /** In use order, least recent first (a Map iterates in insertion order; a hit re-inserts). */
  private readonly held = new Map<K, Held<V>>();
  private heldBytes = 0;

  constructor(readonly budgetBytes: number) {
    if (!(budgetBytes >= 0)) throw new Error(`a memory budget must be a number of bytes ≥ 0, got ${budgetBytes}`);
  }

  get bytes(): number {
    return this.heldBytes;
  }

  get count(): number {
    return this.held.size;
  }

  has(key: K): boolean {
    return this.held.has(key);
  }

  get(key: K, load: () => Promise<{ value: V; bytes: number }>): Promise<V> {
    const held = this.held.get(key);
    if (held) {
      this.held.delete(key);
      this.held.set(key, held);
      return held.value;
    }
    const entry: Held<V> = { bytes: 0, value: Promise.resolve(undefined as V) };
    entry.value = load().then(
      ({ value, bytes }) => {
        // Counted once loaded; an entry dropped meanwhile (clear) is not counted at all.
        if (this.held.get(key) === entry) {
          entry.bytes = bytes;
          this.heldBytes += bytes;
          this.shrink();
        }
        return value;
      },
      (error: unknown) => {
        if (this.held.get(key) === entry) this.held.delete(key);
        throw error;
      },
    );
    this.held.set(key, entry);
    return entry.value;
  }

  /** Drops everything; returns the bytes freed. */
  clear(): number {
    const freed = this.heldBytes;
    this.held.clear();
    this.heldBytes = 0;
    return freed;
  }

  private shrink(): void {
    for (const [key, entry] of this.held) {
      if (this.heldBytes <= this.budgetBytes || this.held.size <= 1) return;
      this.held.delete(key);
      this.heldBytes -= entry.bytes;
    }
  }
}
