/**
 * Fetches index shards by their manifest entry: streamed with progress, size-bounded, checksum-verified,
 * and kept in a cache for offline use. A corrupt cache entry is dropped and fetched again; a shard that
 * arrives corrupt from the network is an error, never a half-loaded index.
 */
import type { ShardFile } from '../core/index/index-manifest.ts';
import { sha256Hex } from './checksum.ts';
import { joinBytes } from './shard-codec.ts';

export interface ShardCache {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}

export type FetchShard = (file: ShardFile, onBytes?: (bytes: number) => void) => Promise<Uint8Array>;

export interface ShardSourceOptions {
  /** The folder the manifest came from; shard paths are resolved against it. */
  base: URL;
  cache?: ShardCache;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export function shardSource(options: ShardSourceOptions): FetchShard {
  const { base, cache } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  return async (file, onBytes) => {
    const url = new URL(file.path, base).href;
    // The checksum is part of the key: a rebuilt index never reads an older build's shard.
    const key = `${url}#sha256=${file.sha256}`;
    const cached = await cache?.get(key);
    if (cached && (await verify(cached, file)) === null) {
      onBytes?.(cached.byteLength);
      return cached;
    }
    if (cached) await cache?.delete(key);
    let problem = '';
    // A second attempt bypasses the HTTP cache: a proxy or an interrupted earlier download may have
    // left bad bytes there.
    for (const httpCache of ['default', 'reload'] as const) {
      const bytes = await download(url, file, fetchImpl, { cache: httpCache, ...(options.signal && { signal: options.signal }) }, onBytes);
      problem = (await verify(bytes, file)) ?? '';
      if (!problem) {
        await cache?.put(key, bytes);
        return bytes;
      }
    }
    throw new Error(`index shard ${file.path} is corrupt (${problem}), also when fetched again; rebuild or re-upload the index`);
  };
}

async function verify(bytes: Uint8Array, file: ShardFile): Promise<string | null> {
  if (bytes.byteLength !== file.bytes) return `${bytes.byteLength} bytes, expected ${file.bytes}`;
  const sha = await sha256Hex(bytes);
  return sha === file.sha256 ? null : `SHA-256 ${sha.slice(0, 12)}…, expected ${file.sha256.slice(0, 12)}…`;
}

/** Reads at most one byte more than the manifest promises, so an oversized body fails the size check. */
async function download(url: string, file: ShardFile, fetchImpl: typeof fetch, init: RequestInit, onBytes?: (bytes: number) => void): Promise<Uint8Array> {
  const response = await fetchImpl(url, init);
  if (!response.ok || !response.body) throw new Error(`could not fetch index shard ${file.path}: HTTP ${response.status}`);
  const chunks: Uint8Array[] = [];
  let received = 0;
  const reader = response.body.getReader();
  while (received <= file.bytes) {
    const { done, value } = await reader.read();
    if (done) return joinBytes(chunks);
    chunks.push(value);
    received += value.byteLength;
    onBytes?.(Math.min(received, file.bytes));
  }
  await reader.cancel();
  return joinBytes(chunks);
}
