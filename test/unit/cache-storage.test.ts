/**
 * The index cache under a full store: a shard that cannot be kept ends the load with a message naming
 * what was needed and what is free, and the shards cached before stay cached and keep serving.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fetchNetworkFirst, shardCacheOn } from '../../src/retrieval/cache-storage.ts';
import { shardSource } from '../../src/retrieval/shard-source.ts';
import { explainQuota, isQuotaError, StorageFullError } from '../../src/storage/quota.ts';
import type { ShardFile } from '../../src/core/index/index-manifest.ts';

/** The slice of the Cache API the shard cache uses, in memory; `full` makes every put fail as a browser would. */
class FakeCache {
  readonly store = new Map<string, Uint8Array>();
  full = false;

  async match(url: string): Promise<Response | undefined> {
    const bytes = this.store.get(url);
    return bytes ? new Response(bytes.slice() as Uint8Array<ArrayBuffer>) : undefined;
  }

  async put(url: string, response: Response): Promise<void> {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (this.full) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    this.store.set(url, bytes);
  }

  async delete(url: string): Promise<boolean> {
    return this.store.delete(url);
  }
}

const BASE = new URL('https://example.test/index/');

function shardOf(path: string, size: number): { file: ShardFile; bytes: Uint8Array } {
  const bytes = new Uint8Array(size).map((_, i) => (i * 31 + path.length) % 251);
  return { file: { path, bytes: size, sha256: createHash('sha256').update(bytes).digest('hex') }, bytes };
}

function serving(shards: { file: ShardFile; bytes: Uint8Array }[]): { fetch: typeof fetch; requests: string[] } {
  const requests: string[] = [];
  const fetchImpl = (async (input: string | URL | Request) => {
    const url = String(input);
    requests.push(url);
    const shard = shards.find((s) => new URL(s.file.path, BASE).href === url);
    return shard ? new Response(shard.bytes.slice() as Uint8Array<ArrayBuffer>) : new Response('missing', { status: 404 });
  }) as typeof fetch;
  return { fetch: fetchImpl, requests };
}

// 1,000 MB of quota with 998.5 MB used: 1.5 MB free.
const nearlyFull = async () => ({ usage: 998_500_000, quota: 1_000_000_000 });

describe('the index cache when the browser storage is full', () => {
  it('fails the shard with a clear message and keeps every shard cached before', async () => {
    const cache = new FakeCache();
    const old = shardOf('passages-000-aaaaaaaaaaaa.json', 4_000);
    const big = shardOf('vectors-000-bbbbbbbbbbbb.bin', 2_500_000);
    const server = serving([old, big]);
    const fetchShard = shardSource({ base: BASE, cache: shardCacheOn(cache as unknown as Cache, nearlyFull), fetch: server.fetch });

    await fetchShard(old.file);
    expect(cache.store.size).toBe(1);
    cache.full = true;

    const failure = await fetchShard(big.file).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StorageFullError);
    expect((failure as Error).message).toBe(
      'not enough storage to keep index shard vectors-000-bbbbbbbbbbbb.bin: 2.5 MB needed, 1.5 MB free; delete an index or a model under Storage, then try again',
    );
    // Nothing was evicted to make room: the older shard is still there and served without a request.
    expect(cache.store.size).toBe(1);
    const requestsBefore = server.requests.length;
    expect(await fetchShard(old.file)).toEqual(old.bytes);
    expect(server.requests.length).toBe(requestsBefore);
  });

  it('says so when the browser does not report free space', async () => {
    const cache = new FakeCache();
    cache.full = true;
    const shard = shardOf('lexical-000-cccccccccccc.json', 1_000);
    const fetchShard = shardSource({ base: BASE, cache: shardCacheOn(cache as unknown as Cache, async () => ({})), fetch: serving([shard]).fetch });
    await expect(fetchShard(shard.file)).rejects.toThrow(/0\.0 MB needed, the browser does not say how much is free; delete an index or a model under Storage/);
  });

  it('keeps serving a shard whose caching fails for another reason', async () => {
    const cache = new FakeCache();
    cache.put = async () => {
      throw new TypeError('cache is closed');
    };
    const shard = shardOf('passages-001-dddddddddddd.json', 800);
    const fetchShard = shardSource({ base: BASE, cache: shardCacheOn(cache as unknown as Cache, nearlyFull), fetch: serving([shard]).fetch });
    expect(await fetchShard(shard.file)).toEqual(shard.bytes);
  });
});

describe('explainQuota (a model download into a full store)', () => {
  it('drops the partial file, then reports the space the whole file needs', async () => {
    const dropped: string[] = [];
    let usage = 999_000_000;
    const work = async () => {
      throw new DOMException('quota', 'QuotaExceededError');
    };
    const failure = await explainQuota(work, {
      what: 'the model tiny.gguf',
      neededBytes: () => 25_000_000,
      dropPartial: async () => {
        dropped.push('tiny.gguf');
        usage -= 3_000_000; // the partial file's space is free again
      },
      estimate: async () => ({ usage, quota: 1_000_000_000 }),
    }).catch((error: unknown) => error as Error);
    expect(dropped).toEqual(['tiny.gguf']);
    expect(failure.message).toBe('not enough storage to keep the model tiny.gguf: 25 MB needed, 4.0 MB free; delete an index or a model under Storage, then try again');
  });

  it('passes other errors through untouched and drops nothing', async () => {
    const dropped: string[] = [];
    const error = new Error('HTTP 404');
    await expect(explainQuota(() => Promise.reject(error), { what: 'x', neededBytes: () => 1, dropPartial: async () => void dropped.push('x') })).rejects.toBe(error);
    expect(dropped).toEqual([]);
  });

  it('recognises the quota errors browsers throw', () => {
    expect(isQuotaError(new DOMException('q', 'QuotaExceededError'))).toBe(true);
    expect(isQuotaError({ name: 'NS_ERROR_DOM_QUOTA_REACHED' })).toBe(true);
    expect(isQuotaError(new DOMException('x', 'AbortError'))).toBe(false);
    expect(isQuotaError('QuotaExceededError')).toBe(false);
  });
});

describe('fetchNetworkFirst (the index manifest)', () => {
  afterEach(() => void vi.unstubAllGlobals());
  const url = 'https://example.test/index/manifest.json';

  function withCache(): FakeCache {
    const cache = new FakeCache();
    vi.stubGlobal('caches', { open: async () => cache });
    return cache;
  }

  it('keeps the latest copy, once asked to, and answers with it offline', async () => {
    const cache = withCache();
    const online = (async () => new Response('{"name":"v2"}')) as unknown as typeof fetch;
    const fetched = await fetchNetworkFirst(url, undefined, online);
    expect(await fetched.response.text()).toBe('{"name":"v2"}');
    // Not before its index opened: a manifest that opens nothing is not kept.
    expect(cache.store.size).toBe(0);
    await fetched.keep();
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    expect(await (await fetchNetworkFirst(url, undefined, offline)).response.text()).toBe('{"name":"v2"}');
  });

  it('fails offline when no copy was kept, and passes an HTTP error through', async () => {
    const cache = withCache();
    const offline = (async () => {
      throw new TypeError('Failed to fetch');
    }) as unknown as typeof fetch;
    await expect(fetchNetworkFirst(url, undefined, offline)).rejects.toThrow('Failed to fetch');
    const gone = (async () => new Response('not found', { status: 404 })) as unknown as typeof fetch;
    const error = await fetchNetworkFirst(url, undefined, gone);
    expect(error.response.status).toBe(404);
    await error.keep();
    expect(cache.store.size).toBe(0);
  });
});
