/** Index shards kept in the Cache API, so an index once loaded opens again offline. */
import type { ShardCache } from './shard-source.ts';

export const SHARD_CACHE_NAME = 'sdg-index-shards-v1';

export async function openShardCache(name = SHARD_CACHE_NAME): Promise<ShardCache | undefined> {
  if (!('caches' in globalThis)) return undefined;
  const cache = await caches.open(name);
  // The Cache API ignores URL fragments when matching, so the checksum goes into the query.
  const request = (key: string) => {
    const [url = key, sha = ''] = key.split('#sha256=');
    const keyed = new URL(url);
    keyed.searchParams.set('sdg-sha256', sha);
    return keyed.href;
  };
  return {
    async get(key) {
      const hit = await cache.match(request(key));
      return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
    },
    async put(key, bytes) {
      try {
        await cache.put(request(key), new Response(bytes as Uint8Array<ArrayBuffer>));
      } catch (error) {
        // Out of quota: the shard still serves this session from memory; it will just be fetched again.
        console.warn(`index shard not cached: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
    async delete(key) {
      await cache.delete(request(key));
    },
  };
}
