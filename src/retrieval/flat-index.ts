/**
 * Exact inner-product search over int8 vectors: a scan of every row, with a bounded top-k kept in a
 * small sorted array (k is small: the agent asks for 3–10 passages).
 *
 * Why this and not voy-search, the WASM index the product was sketched around (`npm run
 * bench:retrieval`, Node 20, 2 cores, 384-d, top-10 p50): 10k vectors — about even, this scan 5.9 ms,
 * voy 5.6–9.4 ms over three runs, but voy takes 1.2 s to build and 8.1 KB a vector serialised vs 388
 * bytes here; 100k — 63 ms vs 132 ms (12 s to build, and it cannot serialise: its JSON passes V8's
 * 512 MB string limit); 1M — 623 ms vs voy failing to build (its wasm runs out of 32-bit memory). voy
 * led only below about 3k vectors (2k: 1.0 vs 1.3 ms), which its quarter-second build outweighs. So
 * the scan is used at every size.
 */
import type { DenseHit, DenseIndex } from './dense-index.ts';
import type { Int8Vectors } from './vectors.ts';

export class FlatInt8Index implements DenseIndex {
  private readonly blocks: Int8Vectors[] = [];
  private rows = 0;

  constructor(readonly dimension: number) {}

  get size(): number {
    return this.rows;
  }

  /** Appends a block; its rows are numbered after the rows already held. */
  add(block: Int8Vectors): void {
    if (block.dimension !== this.dimension) throw new Error(`a block of ${block.dimension}-d vectors cannot join a ${this.dimension}-d index`);
    this.blocks.push(block);
    this.rows += block.scales.length;
  }

  search(query: Float32Array, k: number): DenseHit[] {
    if (query.length !== this.dimension) throw new Error(`query has ${query.length} dimensions, the index ${this.dimension}`);
    const top = new TopK(Math.min(Math.max(0, Math.floor(k)), this.rows));
    if (top.capacity === 0) return [];
    let base = 0;
    for (const block of this.blocks) {
      scanBlock(block, query, base, top);
      base += block.scales.length;
    }
    return top.sorted();
  }
}

function scanBlock({ codes, scales, dimension }: Int8Vectors, query: Float32Array, base: number, top: TopK): void {
  const count = scales.length;
  for (let row = 0, offset = 0; row < count; row++, offset += dimension) {
    let dot = 0;
    for (let i = 0; i < dimension; i++) dot += (codes[offset + i] as number) * (query[i] as number);
    top.offer(base + row, dot * (scales[row] as number));
  }
}

/** The k best (row, score) pairs seen so far, best first; ties keep the lower row. */
class TopK {
  private readonly rows: Int32Array;
  private readonly scores: Float64Array;
  private length = 0;

  constructor(readonly capacity: number) {
    this.rows = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  offer(row: number, score: number): void {
    if (this.length === this.capacity && score <= (this.scores[this.length - 1] as number)) return;
    let i = this.length < this.capacity ? this.length++ : this.length - 1;
    while (i > 0 && score > (this.scores[i - 1] as number)) {
      this.scores[i] = this.scores[i - 1] as number;
      this.rows[i] = this.rows[i - 1] as number;
      i--;
    }
    this.scores[i] = score;
    this.rows[i] = row;
  }

  sorted(): DenseHit[] {
    return Array.from({ length: this.length }, (_, i) => ({ row: this.rows[i] as number, score: this.scores[i] as number }));
  }
}
