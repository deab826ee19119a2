/**
 * The binary primitives of the lexical index and passage table: unsigned LEB128 varints, bytes,
 * 8-byte checksums and references to checksummed ranges of the index's files. The reader is bounded: index bytes are untrusted even after their checksum matched
 * (the checksum came from the same server), so running off the end is an error naming what was read.
 */

/** Bytes `offset … offset + length − 1` of the `file`-th file of a list the manifest holds, and the
 * first 8 bytes of their SHA-256 in hex. */
export interface FileRange {
  file: number;
  offset: number;
  length: number;
  checksum: string;
}

/** Fetches a FileRange's bytes, verified against its checksum. */
export type FetchFileRange = (range: FileRange) => Promise<Uint8Array>;

export class ByteWriter {
  private buffer = new Uint8Array(1024);
  private length = 0;

  get size(): number {
    return this.length;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  /** Values up to 2^53; a multiplication instead of shifts keeps those above 2^31 intact. */
  varint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`varint out of range: ${value}`);
    this.reserve(8);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.byteLength);
    this.buffer.set(bytes, this.length);
    this.length += bytes.byteLength;
  }

  /** A length-prefixed UTF-8 string. */
  string(text: string): void {
    const bytes = UTF8.encode(text);
    this.varint(bytes.byteLength);
    this.bytes(bytes);
  }

  /** A checksum written as the 8 bytes of its 16 hex digits. */
  checksum(hex: string): void {
    if (!/^[0-9a-f]{16}$/.test(hex)) throw new Error(`not a 16-digit checksum: ${hex}`);
    for (let i = 0; i < 16; i += 2) this.u8(parseInt(hex.slice(i, i + 2), 16));
  }

  range({ file, offset, length, checksum }: FileRange): void {
    this.varint(file);
    this.varint(offset);
    this.varint(length);
    this.checksum(checksum);
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.byteLength) return;
    const grown = new Uint8Array(Math.max(this.buffer.byteLength * 2, this.length + extra));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

const UTF8 = new TextEncoder();
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });

export class ByteReader {
  offset = 0;

  constructor(
    readonly bytes: Uint8Array,
    /** What is being read, for error messages ("posting list of 'film'"). */
    private readonly what: string,
  ) {}

  get done(): boolean {
    return this.offset >= this.bytes.byteLength;
  }

  u8(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw this.malformed('ends early');
    this.offset++;
    return value;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw this.malformed('has an overlong number');
  }

  bytesOf(length: number): Uint8Array {
    if (this.offset + length > this.bytes.byteLength) throw this.malformed('ends early');
    const out = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  string(maxBytes: number): string {
    const length = this.varint();
    if (length > maxBytes) throw this.malformed(`has a ${length}-byte string (at most ${maxBytes})`);
    try {
      return UTF8_STRICT.decode(this.bytesOf(length));
    } catch (error) {
      if (error instanceof MalformedIndexError) throw error;
      throw this.malformed('has text that is not UTF-8');
    }
  }

  checksum(): string {
    let hex = '';
    for (const byte of this.bytesOf(8)) hex += byte.toString(16).padStart(2, '0');
    return hex;
  }

  /** A range inside one of `files` files, at most `maxLength` bytes long. */
  range(files: number, maxLength: number): FileRange {
    const file = this.varint();
    const offset = this.varint();
    const length = this.varint();
    if (file >= files) throw this.malformed(`points at file ${file} of ${files}`);
    if (length === 0 || length > maxLength) throw this.malformed(`points at a range of ${length} bytes`);
    return { file, offset, length, checksum: this.checksum() };
  }

  malformed(problem: string): MalformedIndexError {
    return new MalformedIndexError(`${this.what} is malformed: it ${problem} (byte ${this.offset} of ${this.bytes.byteLength})`);
  }
}

export class MalformedIndexError extends Error {
  override name = 'MalformedIndexError';
}
