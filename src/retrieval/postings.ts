/**
 * One term's posting list: the rows that hold it, ascending, each with its impact (bm25.ts), in blocks of
 * BLOCK_SIZE postings. A block packs its row gaps and its impacts (minus the block's smallest) at the
 * fewest bits that hold the largest of each (frame of reference, as Lucene's and PISA's block codecs do),
 * so frequent terms with small gaps cost a few bits a posting.
 *
 *   list   := [header] block*                     (the header only when there is more than one block)
 *   header := (varint lastRowDelta, u8 maxImpact, varint blockBytes) per block
 *   block  := u8 gapBits, u8 impactBase, u8 impactBits, gaps packed, impacts packed (LSB first, each
 *             padded to a byte); gap = row − previous row − 1, the previous row of a block's first
 *             posting being the last row of the block before it (−1 for the first block)
 *
 * The header's last rows and maximum impacts let a query skip whole blocks without decoding them.
 */
import { ByteReader, ByteWriter } from './byte-codec.ts';
import { MAX_IMPACT } from './bm25.ts';

export const BLOCK_SIZE = 128;

/** A cursor past its last posting sits here: above any row. */
export const END = Number.MAX_SAFE_INTEGER;

export function encodePostings(rows: ArrayLike<number>, impacts: ArrayLike<number>): Uint8Array {
  const count = rows.length;
  if (count === 0 || impacts.length !== count) throw new Error('a posting list needs as many impacts as rows, at least one');
  const header = new ByteWriter();
  const body = new ByteWriter();
  let previousLast = -1;
  for (let start = 0; start < count; start += BLOCK_SIZE) {
    const end = Math.min(count, start + BLOCK_SIZE);
    const before = body.size;
    let maxImpact = 0;
    for (let i = start; i < end; i++) maxImpact = Math.max(maxImpact, impacts[i] ?? 0);
    writeBlock(body, rows, impacts, start, end, previousLast);
    const last = rows[end - 1] ?? 0;
    header.varint(last - Math.max(previousLast, 0));
    header.u8(maxImpact);
    header.varint(body.size - before);
    previousLast = last;
  }
  const blocks = body.finish();
  if (count <= BLOCK_SIZE) return blocks;
  const head = header.finish();
  const out = new Uint8Array(head.byteLength + blocks.byteLength);
  out.set(head);
  out.set(blocks, head.byteLength);
  return out;
}

function writeBlock(out: ByteWriter, rows: ArrayLike<number>, impacts: ArrayLike<number>, start: number, end: number, previousLast: number): void {
  const gaps: number[] = [];
  const values: number[] = [];
  let previous = previousLast;
  let base = MAX_IMPACT;
  for (let i = start; i < end; i++) {
    const row = rows[i] ?? 0;
    if (row <= previous) throw new Error(`posting rows must ascend: ${row} after ${previous}`);
    gaps.push(row - previous - 1);
    previous = row;
    base = Math.min(base, impacts[i] ?? 0);
  }
  for (let i = start; i < end; i++) values.push((impacts[i] ?? 0) - base);
  const gapBits = bitsFor(gaps);
  const impactBits = bitsFor(values);
  out.u8(gapBits);
  out.u8(base);
  out.u8(impactBits);
  out.bytes(pack(gaps, gapBits));
  out.bytes(pack(values, impactBits));
}

function bitsFor(values: readonly number[]): number {
  let max = 0;
  for (const v of values) max = Math.max(max, v);
  return max === 0 ? 0 : Math.floor(Math.log2(max)) + 1;
}

function pack(values: readonly number[], bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((values.length * bits) / 8));
  let bit = 0;
  for (const value of values) {
    for (let b = 0; b < bits; b++, bit++) if ((value >>> b) & 1) out[bit >>> 3] = (out[bit >>> 3] ?? 0) | (1 << (bit & 7));
  }
  return out;
}

/** Reads `count` values of `bits` bits from `bytes` into `out`. Up to 25 bits a value sits in one
 * 32-bit window (shifted by at most 7); wider ones (gaps of over 33M rows) take the slow path. */
function unpack(bytes: Uint8Array, count: number, bits: number, out: Uint32Array | Uint8Array): void {
  if (bits === 0) return void out.fill(0, 0, count);
  if (bits > 25) return unpackWide(bytes, count, bits, out);
  const mask = (1 << bits) - 1;
  let bit = 0;
  for (let i = 0; i < count; i++) {
    const p = bit >>> 3;
    const window = (bytes[p] ?? 0) | ((bytes[p + 1] ?? 0) << 8) | ((bytes[p + 2] ?? 0) << 16) | ((bytes[p + 3] ?? 0) << 24);
    out[i] = (window >>> (bit & 7)) & mask;
    bit += bits;
  }
}

function unpackWide(bytes: Uint8Array, count: number, bits: number, out: Uint32Array | Uint8Array): void {
  let bit = 0;
  for (let i = 0; i < count; i++) {
    let value = 0;
    for (let b = 0; b < bits; b++, bit++) if (((bytes[bit >>> 3] ?? 0) >>> (bit & 7)) & 1) value += 2 ** b;
    out[i] = value;
  }
}

interface BlockInfo {
  last: Float64Array;
  max: Uint8Array;
  start: Uint32Array;
}

/**
 * Walks one posting list forward, decoding a block only when a row in it is asked for. Rows beyond
 * `rowCount` or lists whose sizes disagree with their header are malformed (never a wrong answer).
 */
export class PostingCursor {
  /** The current row, or END. */
  row = -1;
  private readonly blocks: BlockInfo;
  private readonly reader: ByteReader;
  private block = -1;
  /** The block blockMaxAt last looked at; targets only grow, so it only moves forward. */
  private shallow = 0;
  private position = 0;
  private blockCount = 0;
  private readonly rows = new Uint32Array(BLOCK_SIZE);
  private readonly impacts = new Uint8Array(BLOCK_SIZE);

  constructor(
    bytes: Uint8Array,
    readonly df: number,
    readonly maxImpact: number,
    private readonly rowCount: number,
    what: string,
  ) {
    this.reader = new ByteReader(bytes, what);
    if (!(df >= 1 && df <= rowCount)) throw this.reader.malformed(`claims ${df} postings in an index of ${rowCount} rows`);
    const n = Math.ceil(df / BLOCK_SIZE);
    this.blocks = { last: new Float64Array(n), max: new Uint8Array(n), start: new Uint32Array(n) };
    if (n === 1) {
      this.blocks.last[0] = rowCount - 1;
      this.blocks.max[0] = maxImpact;
    } else this.readHeader(n);
    this.loadBlock(0);
  }

  /** The current posting's impact. */
  get impact(): number {
    return this.impacts[this.position] ?? 0;
  }

  next(): void {
    if (++this.position < this.blockCount) this.row = this.rows[this.position] ?? END;
    else if (this.block + 1 < this.blocks.max.length) this.loadBlock(this.block + 1);
    else this.row = END;
  }

  /** Moves to the first posting at or after `target`. */
  advance(target: number): void {
    if (this.row >= target) return;
    let b = Math.max(this.block, this.shallow);
    while (b < this.blocks.max.length && (this.blocks.last[b] ?? 0) < target) b++;
    if (b >= this.blocks.max.length) return void (this.row = END);
    if (b !== this.block) this.loadBlock(b);
    while (this.row < target) this.next();
  }

  /** The largest impact in the block that holds `target` (0 when past the last posting): an upper
   * bound read from the header, decoding nothing. */
  blockMaxAt(target: number): number {
    const n = this.blocks.max.length;
    while (this.shallow < n && (this.blocks.last[this.shallow] ?? 0) < target) this.shallow++;
    return this.shallow < n ? (this.blocks.max[this.shallow] ?? 0) : 0;
  }

  private readHeader(n: number): void {
    let last = 0;
    let start = 0;
    const lengths: number[] = [];
    for (let b = 0; b < n; b++) {
      last += this.reader.varint();
      this.blocks.last[b] = last;
      this.blocks.max[b] = this.reader.u8();
      lengths.push(this.reader.varint());
    }
    start = this.reader.offset;
    lengths.forEach((length, b) => {
      this.blocks.start[b] = start;
      start += length;
    });
    if (start !== this.reader.bytes.byteLength) throw this.reader.malformed(`has blocks of ${start} bytes in all, not ${this.reader.bytes.byteLength}`);
  }

  private loadBlock(b: number): void {
    const count = b === this.blocks.max.length - 1 ? this.df - b * BLOCK_SIZE : BLOCK_SIZE;
    const reader = this.reader;
    reader.offset = this.blocks.start[b] ?? 0;
    const gapBits = reader.u8();
    const base = reader.u8();
    const impactBits = reader.u8();
    if (gapBits > 32 || impactBits > 8) throw reader.malformed(`packs values in ${Math.max(gapBits, impactBits)} bits`);
    unpack(reader.bytesOf(Math.ceil((count * gapBits) / 8)), count, gapBits, this.rows);
    unpack(reader.bytesOf(Math.ceil((count * impactBits) / 8)), count, impactBits, this.impacts);
    let row = b === 0 ? -1 : (this.blocks.last[b - 1] ?? 0);
    for (let i = 0; i < count; i++) {
      row += (this.rows[i] ?? 0) + 1;
      this.rows[i] = row;
      const impact = base + (this.impacts[i] ?? 0);
      if (impact > MAX_IMPACT || impact === 0) throw reader.malformed(`has an impact of ${impact}`);
      this.impacts[i] = impact;
    }
    if (row >= this.rowCount || (this.blocks.max.length > 1 && row !== this.blocks.last[b])) throw reader.malformed(`has a block ending at row ${row}`);
    this.block = b;
    this.blockCount = count;
    this.position = 0;
    this.row = this.rows[0] ?? END;
  }
}
