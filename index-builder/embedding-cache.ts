/**
 * What makes a killed build resumable: every embedded batch is appended to a cache file, keyed by a hash
 * of the embedder and the text, and a rerun embeds only what is missing. A record cut short by the kill
 * is dropped on open; whole records are never rewritten.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync } from 'node:fs';
import { dirname } from 'node:path';

const KEY_BYTES = 32;

export class EmbeddingCache {
  private readonly vectors = new Map<string, Float32Array>();

  private constructor(
    private readonly path: string,
    private readonly embedderId: string,
    private readonly dimension: number,
  ) {}

  static open(path: string, embedderId: string, dimension: number): EmbeddingCache {
    const cache = new EmbeddingCache(path, embedderId, dimension);
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) cache.load();
    return cache;
  }

  get size(): number {
    return this.vectors.size;
  }

  get(text: string): Float32Array | undefined {
    return this.vectors.get(this.key(text).toString('hex'));
  }

  append(entries: readonly { text: string; vector: Float32Array }[]): void {
    const records = entries.map(({ text, vector }) => {
      if (vector.length !== this.dimension) throw new Error(`embedding of ${vector.length} dimensions, expected ${this.dimension}`);
      const key = this.key(text);
      this.vectors.set(key.toString('hex'), vector);
      return Buffer.concat([key, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength)]);
    });
    appendFileSync(this.path, Buffer.concat(records));
  }

  private get recordBytes(): number {
    return KEY_BYTES + this.dimension * 4;
  }

  private key(text: string): Buffer {
    return createHash('sha256').update(`${this.embedderId}\u0000${this.dimension}\u0000${text}`).digest();
  }

  private load(): void {
    const bytes = readFileSync(this.path);
    const whole = bytes.byteLength - (bytes.byteLength % this.recordBytes);
    if (whole !== bytes.byteLength) truncateSync(this.path, whole);
    for (let offset = 0; offset < whole; offset += this.recordBytes) {
      const key = bytes.subarray(offset, offset + KEY_BYTES).toString('hex');
      // Copied out: a Float32Array view needs 4-byte alignment, which the file offset does not promise.
      const vector = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset + KEY_BYTES, bytes.byteOffset + offset + this.recordBytes));
      this.vectors.set(key, vector);
    }
  }
}
