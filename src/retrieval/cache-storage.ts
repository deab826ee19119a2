/**
 * Index files kept in the Cache API, so an index once loaded opens again offline: the shards (keyed by
 * their checksum) and the manifest that names them, all in one cache the Storage panel can list by index.
 */
import type { ShardCache } from './shard-source.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { isQuotaError, storageFull, type EstimateStorage } from '../storage/quota.ts';

export const SHARD_CACHE_NAME = 'sdg-index-shards-v1';

/** The query parameter that carries a shard's checksum in its cache key. */
export const SHA_PARAM = 'sdg-sha256';

export async function openShardCache(name = SHARD_CACHE_NAME): Promise<ShardCache | undefined> {
  if (!('caches' in globalThis)) return undefined;
  return shardCacheOn(await caches.open(name));
}

/** The Cache API ignores URL fragments when matching, so the checksum goes into the query. */
function requestUrl(key: string): string {
  const [url = key, sha = ''] = key.split('#sha256=');
  const keyed = new URL(url);
  keyed.searchParams.set(SHA_PARAM, sha);
  return keyed.href;
}

/**
 * A ShardCache over one Cache. A full store is an error the user reads (a StorageFullError naming the
 * shard, its size and the space left); nothing already cached is evicted to make room.
 */
export function shardCacheOn(cache: Cache, estimate?: EstimateStorage): ShardCache {
  return {
    async get(key) {
      const hit = await cache.match(requestUrl(key));
      return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      try {
        await cache.put(requestUrl(key), new Response(bytes as Uint8Array<ArrayBuffer>));
      } catch (error) {
        const name = new URL(key).pathname.split('/').pop() ?? key;
        if (isQuotaError(error)) throw await storageFull(`index shard ${name}`, bytes.byteLength, error, estimate);
        // Any other failure: the shard still serves this session from memory; it is fetched again next time.
        console.warn(`index shard ${name} not cached: ${errorMessage(error)}`);
      }
    },
    async delete(key) {
      await cache.delete(requestUrl(key));
    },
  };
}

/** A response fetched network first, and how to keep it as the offline copy. */
export interface NetworkFirst {
  response: Response;
  /**
   * Keeps this response beside the shards (nothing for one that came from the copy or is an error).
   * Called once the index it names has opened: a manifest that fails to open an index is not kept.
   */
  keep(): Promise<void>;
}

/**
 * Network first, then the copy kept beside the shards: online a rebuilt index is seen at once, offline
 * the index still opens, since without its manifest the cached shards are unreachable. Only a failed
 * connection falls back; an HTTP error from a reachable server is the server's answer.
 */
export async function fetchNetworkFirst(url: string, name = SHARD_CACHE_NAME, fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis)): Promise<NetworkFirst> {
  const cache = 'caches' in globalThis ? await caches.open(name).catch(() => undefined) : undefined;
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (error) {
    const kept = await cache?.match(url);
    if (kept) return { response: kept, keep: async () => undefined };
    throw error;
  }
  // Taken now: the caller reads the body before it knows whether the copy is worth keeping.
  const copy = response.ok && cache ? response.clone() : null;
  return {
    response,
    keep: async () => {
      // A failed copy only costs the offline fallback; the quota message comes from the shards.
      if (copy) await cache?.put(url, copy).catch((error: unknown) => console.warn(`${url} not kept for offline use: ${errorMessage(error)}`));
    },
  };
}
