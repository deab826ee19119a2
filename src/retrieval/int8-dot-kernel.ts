/**
 * The WebAssembly SIMD side of the flat int8 scan (kernel: int8-dot.wat). Codes and scales are copied
 * into the kernel's memory once, as blocks are added, so a query writes only itself (its int16 codes)
 * before the scan; the kernel writes one f32 score a row, which FlatInt8Index ranks.
 *
 * The query is quantised to int16, not int8: `i32x4.dot_i16x8_s` multiplies int16 lanes anyway (the
 * codes are sign-extended to them), so the finer query costs nothing and its rounding (1 part in
 * 65,534 of its largest component) leaves rankings as the float query's.
 */
import kernelBytes from '#int8-dot-wasm';
import type { Int8Vectors } from './vectors.ts';

interface KernelExports {
  memory: WebAssembly.Memory;
  scores(codes: number, scales: number, rows: number, stride: number, query: number, out: number): void;
  stream(start: number, bytes: number): number;
}

/** Where one added block lives in wasm memory: its codes, then its scales. */
interface Block {
  codesAt: number;
  scalesAt: number;
  rows: number;
}

const PAGE_BYTES = 65_536;
/** A wasm32 memory's ceiling (65,536 pages). */
const MAX_BYTES = 2 ** 32;

let compiled: WebAssembly.Module | null | undefined;

/**
 * The compiled kernel, or null where WebAssembly SIMD is unavailable: validating the kernel itself is
 * the feature test, since it fails exactly when an engine lacks an instruction the kernel uses. The
 * module is a few hundred bytes, well under the limit browsers put on compiling synchronously.
 */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(kernelBytes) ? new WebAssembly.Module(kernelBytes) : null;
  }
  return compiled;
}

export class Int8DotKernel {
  /** Bytes a row takes in wasm memory: the dimension rounded up to whole 16-byte chunks. */
  readonly stride: number;
  /** The largest query code: keeps `dimension * 128 * max` inside int32, so sums are exact. */
  private readonly queryMax: number;
  private readonly blocks: Block[] = [];
  private rows = 0;
  /** The end of the blocks; the scores are written after it (scratch, moved as blocks are added). */
  private end: number;

  private constructor(
    private readonly kernel: KernelExports,
    readonly dimension: number,
  ) {
    this.stride = Math.ceil(dimension / 16) * 16;
    this.queryMax = Math.min(32_767, Math.floor((2 ** 31 - 1) / (128 * dimension)));
    // The query's `stride` int16s come first.
    this.end = this.stride * 2;
  }

  /** Null where WebAssembly SIMD is unavailable (the caller scans in JS instead). */
  static create(dimension: number): Int8DotKernel | null {
    const module = kernelModule();
    if (!module || !Number.isInteger(dimension) || dimension < 1) return null;
    const instance = new WebAssembly.Instance(module);
    return new Int8DotKernel(instance.exports as unknown as KernelExports, dimension);
  }

  get size(): number {
    return this.rows;
  }

  /** Copies a block in after the rows already held; the caller may drop its own copy. */
  append({ codes, scales }: Int8Vectors): void {
    const { dimension, stride } = this;
    const rows = scales.length;
    if (codes.length !== rows * dimension) throw new Error(`${codes.length} codes are not ${rows} rows of ${dimension}`);
    const codesAt = this.end;
    const scalesAt = codesAt + rows * stride;
    // Blocks start 16-byte aligned (the scales may end mid-chunk), and the scores fit after them.
    const end = Math.ceil((scalesAt + rows * 4) / 16) * 16;
    this.reserve(end + (this.rows + rows) * 4);
    const buffer = this.kernel.memory.buffer;
    const target = new Int8Array(buffer, codesAt, rows * stride);
    // Padding is left as it is (old scores may lie there): the query's padding is zero, so it adds nothing.
    if (stride === dimension) target.set(codes);
    else for (let row = 0; row < rows; row++) target.set(codes.subarray(row * dimension, (row + 1) * dimension), row * stride);
    new Float32Array(buffer, scalesAt, rows).set(scales);
    this.blocks.push({ codesAt, scalesAt, rows });
    this.rows += rows;
    this.end = end;
  }

  /**
   * Every row's score against the query, in row order: the int8 dot product times the row's scale,
   * to be multiplied by `queryScale` to become the float inner product (a positive factor, which does
   * not change the ranking). The view is valid until the next call.
   */
  scores(query: Float32Array): { scores: Float32Array; queryScale: number } {
    const queryScale = this.writeQuery(query);
    let out = this.end;
    for (const block of this.blocks) {
      this.kernel.scores(block.codesAt, block.scalesAt, block.rows, this.stride, 0, out);
      out += block.rows * 4;
    }
    return { scores: new Float32Array(this.kernel.memory.buffer, this.end, this.rows), queryScale };
  }

  /** Reads every stored byte once with nothing else to do: the scan's memory-bandwidth bound. */
  stream(): number {
    const start = this.stride * 2;
    const bytes = this.end - start;
    return this.kernel.stream(start, bytes - (bytes % 64));
  }

  /** Bytes of wasm memory held for the rows (codes, their padding and scales). */
  get bytes(): number {
    return this.end - this.stride * 2;
  }

  private writeQuery(query: Float32Array): number {
    let max = 0;
    for (const x of query) max = Math.max(max, Math.abs(x));
    const codes = new Int16Array(this.kernel.memory.buffer, 0, this.stride);
    codes.fill(0);
    if (max === 0) return 0;
    const scale = max / this.queryMax;
    for (let i = 0; i < this.dimension; i++) codes[i] = Math.round((query[i] as number) / scale);
    return scale;
  }

  private reserve(bytes: number): void {
    const memory = this.kernel.memory;
    if (bytes <= memory.buffer.byteLength) return;
    if (bytes > MAX_BYTES) throw new Error(`${this.rows} vectors and more do not fit in WebAssembly memory (${Math.ceil(bytes / 2 ** 20)} MB of 4096 MB)`);
    memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE_BYTES));
  }
}
