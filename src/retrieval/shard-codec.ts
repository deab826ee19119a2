/**
 * The bytes of each shard kind. Decoders check every size against the manifest: shard bytes are
 * untrusted even after their checksum matched, since the manifest came from the same place.
 */
import { z } from 'zod';
import { PassageText, PassageTitle } from '../core/index/corpus.ts';
import { vectorShardBytes } from '../core/index/index-manifest.ts';
import type { Document } from '../core/agent/retriever.ts';
import type { Int8Vectors } from './vectors.ts';

const utf8 = new TextEncoder();

/** Layout: `count` little-endian float32 scales, then the `count * dimension` int8 codes. */
export function encodeVectorShard(vectors: Int8Vectors): Uint8Array {
  const count = vectors.scales.length;
  const bytes = new Uint8Array(vectorShardBytes(count, vectors.dimension));
  const view = new DataView(bytes.buffer);
  vectors.scales.forEach((scale, i) => view.setFloat32(i * 4, scale, true));
  bytes.set(new Uint8Array(vectors.codes.buffer, vectors.codes.byteOffset, vectors.codes.byteLength), count * 4);
  return bytes;
}

export function decodeVectorShard(bytes: Uint8Array, count: number, dimension: number): Int8Vectors {
  const expected = vectorShardBytes(count, dimension);
  if (bytes.byteLength !== expected) throw new Error(`vector shard has ${bytes.byteLength} bytes, expected ${expected}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const scales = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const scale = view.getFloat32(i * 4, true);
    if (!Number.isFinite(scale) || scale < 0) throw new Error(`vector shard row ${i} has an invalid scale`);
    scales[i] = scale;
  }
  // A copy of the codes alone: `bytes` may be a view into a larger buffer (a Node Buffer from its pool).
  const codes = new Int8Array(count * dimension);
  codes.set(new Int8Array(bytes.buffer, bytes.byteOffset + count * 4, count * dimension));
  return { dimension, codes, scales };
}

const PassageShard = z.array(z.object({ id: z.string().min(1).max(200), title: PassageTitle, text: PassageText }));

export function encodePassageShard(documents: readonly Document[]): Uint8Array {
  return utf8.encode(JSON.stringify(documents.map(({ id, title, text }) => ({ id, title, text }))));
}

export function decodePassageShard(bytes: Uint8Array, count: number): Document[] {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new Error('passage shard is not valid UTF-8 JSON');
  }
  const parsed = PassageShard.safeParse(json);
  if (!parsed.success) throw new Error(`passage shard is malformed: ${parsed.error.issues[0]?.message ?? 'unknown problem'}`);
  if (parsed.data.length !== count) throw new Error(`passage shard holds ${parsed.data.length} passages, expected ${count}`);
  return parsed.data;
}

/** Cuts bytes into pieces of at most `size` bytes (a large lexical index becomes several shards). */
export function splitBytes(bytes: Uint8Array, size: number): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (let start = 0; start < bytes.byteLength; start += size) parts.push(bytes.subarray(start, start + size));
  return parts;
}

export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}
