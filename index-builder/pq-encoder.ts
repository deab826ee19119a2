/**
 * The builder's side of product quantisation: finding each sub-vector's nearest codeword, for the PQ
 * k-means (every sample, every iteration) and for encoding (every row). It runs in a WebAssembly SIMD
 * kernel of our own (pq-nearest.wat), 16 codewords at a time: 1M rows × 48 sub-spaces × 256 codewords
 * of 8 is 98 G multiply-adds. The whole build of 20k rows took 88–121 s with plain JS loops (codeword by
 * codeword, or dimension-major) and 11 s with the kernel, on this machine while it was busy
 * (`npx tsx test/bench/ivf-pq-scale.ts --sizes 20000`).
 */
import { compileWatFile } from '../vite/wasm-kernel.ts';

interface KernelExports {
  memory: WebAssembly.Memory;
  assign(book: number, k: number, sub: number, points: number, count: number, out: number): void;
  encode(books: number, k: number, sub: number, count: number, point: number, out: number): void;
}

const kernel = new WebAssembly.Module(await compileWatFile(new URL('./pq-nearest.wat', import.meta.url)));
const PAGE_BYTES = 65_536;

export class NearestCodeword {
  private readonly exports: KernelExports;
  private readonly bookBytes: number;
  /** Where the books end: points (or one vector) and the output follow. */
  private readonly booksEnd: number;

  /**
   * `codewords` holds `books` sub-spaces of `k` codewords of `sub` floats (book after book, codeword
   * after codeword); k must be a multiple of 16.
   */
  constructor(
    codewords: Float32Array,
    readonly books: number,
    readonly k: number,
    readonly sub: number,
  ) {
    if (k % 16 !== 0 || codewords.length !== books * k * sub) throw new Error(`${codewords.length} floats are not ${books} books of ${k} codewords of ${sub} (k a multiple of 16)`);
    this.exports = new WebAssembly.Instance(kernel).exports as unknown as KernelExports;
    this.bookBytes = (sub + 1) * k * 4;
    this.booksEnd = books * this.bookBytes;
    this.reserve(this.booksEnd);
    // Each book dimension-major, then −|c|²/2 per codeword: what the kernel reads.
    const memory = new Float32Array(this.exports.memory.buffer, 0, this.booksEnd / 4);
    for (let book = 0; book < books; book++) {
      const at = (book * this.bookBytes) / 4;
      for (let j = 0; j < k; j++) {
        let norm = 0;
        for (let i = 0; i < sub; i++) {
          const x = codewords[(book * k + j) * sub + i] as number;
          memory[at + i * k + j] = x;
          norm += x * x;
        }
        memory[at + sub * k + j] = -norm / 2;
      }
    }
  }

  /** Each point's nearest codeword in book 0 (`points` holds `sub` floats a point). */
  assign(points: Float32Array): Int32Array {
    const count = points.length / this.sub;
    const out = this.booksEnd + points.byteLength;
    this.reserve(out + count * 4);
    new Float32Array(this.exports.memory.buffer, this.booksEnd, points.length).set(points);
    this.exports.assign(0, this.k, this.sub, this.booksEnd, count, out);
    return new Int32Array(this.exports.memory.buffer, out, count).slice();
  }

  /** Writes the nearest codeword of each of the vector's `books` sub-vectors at `out[at …]`. */
  encode(vector: Float32Array, out: Uint8Array, at: number): void {
    const { books, sub, booksEnd } = this;
    if (vector.length !== books * sub) throw new Error(`a vector of ${vector.length} is not ${books} sub-vectors of ${sub}`);
    const codesAt = booksEnd + vector.byteLength;
    this.reserve(codesAt + books);
    const buffer = this.exports.memory.buffer;
    new Float32Array(buffer, booksEnd, vector.length).set(vector);
    this.exports.encode(0, this.k, sub, books, booksEnd, codesAt);
    out.set(new Uint8Array(buffer, codesAt, books), at);
  }

  private reserve(bytes: number): void {
    const memory = this.exports.memory;
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
  }
}
