/**
 * Exact inner-product search over int8 vectors: a scan of every row, with a bounded top-k kept in a
 * small sorted array (k is small: the agent asks for 3–10 passages). The scan runs in a WebAssembly
 * SIMD kernel (int8-dot-kernel.ts, int8-dot.wat) where the engine has SIMD, else in JS.
 *
 * Measured (`npx tsx test/bench/dense-scale.ts`, Node 20, 2-core AMD EPYC VM, 384-d, top-10, 30
 * queries; p50 / p95 ms; before = the JS scan with one accumulator, the scan of commit 34264e4):
 *
 *   vectors  SIMD int8   JS int8 (4 acc)  JS int8 before  JS float32  voy           read bound
 *   10k      0.3 / 3.2   5.1 / 5.5        6.0 / 6.5       4.4 / 8.4   6.8 / 7.5     0.04
 *   100k     2.9 / 4.6   46 / 71          71 / 84         43 / 66     67 / 70       1.5
 *   1M       25 / 26     457 / 489        705 / 784       434 / 440   cannot build  12.9
 *
 * - SIMD: 18–20× the JS scan at 100k–1M, and 1.9× the memory-bandwidth bound (reading the same 370 MB
 *   once with one add a 16-byte load, 30 GB/s here): the kernel does 2 extends and 2 dots a 16-byte
 *   chunk, so it is not far from streaming speed. In Chromium, in a worker: 0.3 ms at 10k, 3.4 ms at
 *   100k, 25 ms p50 (38 ms p95) at 1M. A second worker could at most halve that, and would need the
 *   codes in a SharedArrayBuffer (cross-origin isolation) or a second copy, so the scan stays on one.
 * - The query is quantised too (to int16, see int8-dot-kernel.ts); rankings match the JS scan's.
 * - The JS scan (the fallback) keeps four accumulators: V8 does not vectorise, but independent sums
 *   pipeline, 35% faster than one (705 → 457 ms at 1M).
 * - voy-search: 388 bytes a vector here against 8.1 KB serialised; 13 s to build 100k, and its JSON
 *   passes V8's 512 MB string limit there; at 1M its wasm runs out of 32-bit memory while adding. It led
 *   only below about 3k vectors (2k: 1.0 vs 1.3 ms for the JS scan), so the scan is used at every size.
 * - Bytes a passage: 388 (384 codes + a float32 scale), in the shard and in wasm memory alike (rows
 *   are padded to 16 bytes: none at 384-d); float32 would be 1,536.
 */
import type { DenseIndex } from './dense-index.ts';
import type { RankedRow } from './ranked-row.ts';
import { Int8DotKernel } from './int8-dot-kernel.ts';
import type { Int8Vectors } from './vectors.ts';

export type ScanKernel = 'wasm-simd' | 'js';

export interface FlatInt8Options {
  /** By default the SIMD kernel where WebAssembly SIMD exists, else the JS scan; tests and the
   * benchmark pick one. */
  kernel?: ScanKernel;
}

export class FlatInt8Index implements DenseIndex {
  /** The JS scan's blocks; empty with the SIMD kernel, which holds its own copy in wasm memory. */
  private readonly blocks: Int8Vectors[] = [];
  private readonly simd: Int8DotKernel | null;
  private rows = 0;

  constructor(
    readonly dimension: number,
    options: FlatInt8Options = {},
  ) {
    this.simd = options.kernel === 'js' ? null : Int8DotKernel.create(dimension);
    if (options.kernel === 'wasm-simd' && !this.simd) throw new Error('WebAssembly SIMD is not available here');
  }

  get kernel(): ScanKernel {
    return this.simd ? 'wasm-simd' : 'js';
  }

  get size(): number {
    return this.rows;
  }

  /** Bytes held for the vectors (with the SIMD kernel: codes padded to 16-byte rows, and scales). */
  get memoryBytes(): number {
    return this.simd ? this.simd.bytes : this.blocks.reduce((sum, b) => sum + b.codes.byteLength + b.scales.byteLength, 0);
  }

  /** Reads every byte a search reads, doing nothing else: the memory-bandwidth floor under a scan
   * (for the benchmark; SIMD kernel only). */
  stream(): number {
    if (!this.simd) throw new Error('only the SIMD kernel can stream its memory');
    return this.simd.stream();
  }

  /** Appends a block; its rows are numbered after the rows already held. With the SIMD kernel the
   * block is copied into wasm memory, and the caller's arrays are not kept. */
  add(block: Int8Vectors): void {
    if (block.dimension !== this.dimension) throw new Error(`a block of ${block.dimension}-d vectors cannot join a ${this.dimension}-d index`);
    if (this.simd) this.simd.append(block);
    else this.blocks.push(block);
    this.rows += block.scales.length;
  }

  search(query: Float32Array, k: number): RankedRow[] {
    if (query.length !== this.dimension) throw new Error(`query has ${query.length} dimensions, the index ${this.dimension}`);
    if (!query.every(Number.isFinite)) throw new Error('the query vector has a value that is not a finite number');
    const top = new TopK(Math.min(Math.max(0, Math.floor(k)), this.rows));
    if (top.capacity === 0) return [];
    if (this.simd) {
      const { scores, queryScale } = this.simd.scores(query);
      rankScores(scores, top);
      return top.sorted().map(({ row, score }) => ({ row, score: score * queryScale }));
    }
    let base = 0;
    for (const block of this.blocks) {
      scanBlock(block, query, base, top);
      base += block.scales.length;
    }
    return top.sorted();
  }
}

/** One compare a row: only a score that beats the current k-th best reaches the top-k list. */
function rankScores(scores: Float32Array, top: TopK): void {
  let threshold = -Infinity;
  for (let row = 0; row < scores.length; row++) {
    const score = scores[row] as number;
    if (score > threshold) {
      top.offer(row, score);
      threshold = top.threshold;
    }
  }
}

/** Four accumulators: V8 does not vectorise, but independent sums pipeline (35% faster at 384-d). */
function scanBlock({ codes, scales, dimension }: Int8Vectors, query: Float32Array, base: number, top: TopK): void {
  const count = scales.length;
  const tail = dimension - (dimension % 4);
  for (let row = 0, offset = 0; row < count; row++, offset += dimension) {
    let a = 0;
    let b = 0;
    let c = 0;
    let d = 0;
    for (let i = 0; i < tail; i += 4) {
      const o = offset + i;
      a += (codes[o] as number) * (query[i] as number);
      b += (codes[o + 1] as number) * (query[i + 1] as number);
      c += (codes[o + 2] as number) * (query[i + 2] as number);
      d += (codes[o + 3] as number) * (query[i + 3] as number);
    }
    for (let i = tail; i < dimension; i++) a += (codes[offset + i] as number) * (query[i] as number);
    top.offer(base + row, (a + b + c + d) * (scales[row] as number));
  }
}

/** The k best (row, score) pairs seen so far, best first; ties keep the row offered first. */
export class TopK {
  private readonly rows: Int32Array;
  private readonly scores: Float64Array;
  private length = 0;

  constructor(readonly capacity: number) {
    this.rows = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  /** What a score must exceed to be kept: the k-th best once k are held. */
  get threshold(): number {
    return this.length === this.capacity ? (this.scores[this.length - 1] as number) : -Infinity;
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

  sorted(): RankedRow[] {
    return Array.from({ length: this.length }, (_, i) => ({ row: this.rows[i] as number, score: this.scores[i] as number }));
  }
}
