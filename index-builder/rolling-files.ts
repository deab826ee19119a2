/**
 * Where the builder appends the pieces a query fetches by range (dictionary pages, posting lists,
 * passage blocks): a run of files, each closed once the next piece would take it past `maxBytes`. A
 * file is written under a temporary name and renamed to one that carries its SHA-256 when it is
 * complete, so a killed build never leaves a file the manifest could name half-written.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { ShardFile } from '../src/core/index/index-manifest.ts';
import type { FileRange } from '../src/retrieval/byte-codec.ts';

interface OpenFile {
  fd: number;
  hash: Hash;
  bytes: number;
}

export class RollingFiles {
  private readonly done: ShardFile[] = [];
  private current: OpenFile | null = null;

  constructor(
    private readonly dir: string,
    private readonly stem: string,
    private readonly maxBytes: number,
  ) {}

  /** Appends one piece (never split across files) and says where it lies. */
  append(bytes: Uint8Array): FileRange {
    if (this.current && this.current.bytes + bytes.byteLength > this.maxBytes) this.close();
    const file = (this.current ??= { fd: openSync(this.partialPath(this.done.length), 'w'), hash: createHash('sha256'), bytes: 0 });
    writeSync(file.fd, bytes);
    file.hash.update(bytes);
    const range = { file: this.done.length, offset: file.bytes, length: bytes.byteLength, checksum: rangeChecksumSync(bytes) };
    file.bytes += bytes.byteLength;
    return range;
  }

  /** Closes the last file; the list's order is the `file` numbers of the ranges. */
  finish(): ShardFile[] {
    this.close();
    return this.done;
  }

  private close(): void {
    const file = this.current;
    if (!file) return;
    closeSync(file.fd);
    const sha256 = file.hash.digest('hex');
    const path = `${this.stem}-${String(this.done.length).padStart(3, '0')}-${sha256.slice(0, 12)}.bin`;
    renameSync(this.partialPath(this.done.length), join(this.dir, path));
    this.done.push({ path, bytes: file.bytes, sha256 });
    this.current = null;
  }

  private partialPath(n: number): string {
    return join(this.dir, `${this.stem}-${n}.partial`);
  }
}

/** rangeChecksum (range-source.ts) in Node, synchronously: the first 8 bytes of the SHA-256, in hex. */
export function rangeChecksumSync(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}
