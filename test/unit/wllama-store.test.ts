/**
 * wllama's store of GGUF files as the app reads it: a file downloaded from a host that compresses it (no
 * Content-Length, recorded by wllama as 0 bytes) is whole, and counts as stored; one without metadata
 * (a download cut off) does not.
 */
import type { CacheEntry, CacheEntryMetadata } from '@wllama/wllama/esm/index.js';
import { describe, expect, it } from 'vitest';
import { isStored, recordReceivedSizes, type ModelStore } from '../../src/engines/wllama-store.ts';

const URL = 'https://models.example.org/tiny.gguf';
const OTHER = 'https://models.example.org/other.gguf';

/** A store of `entries`; writes land in it as wllama's would. */
function store(entries: CacheEntry[]): ModelStore & { entries: CacheEntry[] } {
  return {
    entries,
    list: async () => entries.map((e) => ({ ...e, metadata: { ...e.metadata } })),
    async writeMetadata(name: string, metadata: CacheEntryMetadata) {
      const entry = entries.find((e) => e.name === name);
      if (entry) entry.metadata = metadata;
    },
  };
}

const file = (url: string, size: number, originalSize: number): CacheEntry => ({ name: `abc_${url.split('/').pop()}`, size, metadata: { originalURL: url, originalSize, etag: '' } });
/** What wllama's list shows for a file with no metadata (an interrupted download). */
const partial = (size: number): CacheEntry => ({ name: 'abc_tiny.gguf', size, metadata: { originalURL: '', originalSize: size, etag: '' } });

describe("wllama's model store", () => {
  it('records the bytes received for a finished download the host sent without a length', async () => {
    const models = store([file(URL, 25_456_416, 0), file(OTHER, 900, 0)]);
    await recordReceivedSizes(models, [URL]);
    expect(models.entries.map((e) => e.metadata.originalSize)).toEqual([25_456_416, 0]);
  });

  it('counts such a model as stored, and an interrupted or missing one as not', async () => {
    expect(await isStored(store([file(URL, 25_456_416, 0)]), [URL])).toBe(true);
    expect(await isStored(store([file(URL, 25_456_416, 25_456_416)]), [URL])).toBe(true);
    expect(await isStored(store([partial(1_000_000)]), [URL])).toBe(false);
    expect(await isStored(store([file(OTHER, 900, 900)]), [URL])).toBe(false);
  });

  it('needs every shard of a split model', async () => {
    const shards = ['https://m.example.org/q-00001-of-00002.gguf', 'https://m.example.org/q-00002-of-00002.gguf'];
    expect(await isStored(store([file(shards[0] ?? '', 10, 10)]), shards)).toBe(false);
    expect(await isStored(store(shards.map((url) => file(url, 10, 0))), shards)).toBe(true);
  });
});
