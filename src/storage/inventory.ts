/**
 * What this app keeps in the browser, entry by entry, with its size and what deleting it costs: index
 * files (per index), model weights (per engine), embedding models, and the service worker's copy of the
 * app. Each store is read where its owner puts it: the Cache API by cache name, wllama's OPFS folder
 * through wllama's own cache manager.
 */
import { SHARD_CACHE_NAME, SHA_PARAM } from '../retrieval/cache-storage.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { finishedDownload } from '../engines/wllama-store.ts';

export type StoredKind = 'index' | 'model' | 'embedder' | 'app' | 'other';

export interface StoredEntry {
  /** Stable across refreshes, for keyed lists. */
  id: string;
  kind: StoredKind;
  label: string;
  bytes: number;
  /** What the user gives up by deleting it, shown next to the button. */
  consequence: string;
  remove(): Promise<void>;
}

/** WebLLM's Cache API scopes (`webllm/model`, `webllm/config`, `webllm/wasm`) with its default backend. */
const WEBLLM_PREFIX = 'webllm/';
/** transformers.js keeps hub files here (e5-class query embedders). */
const TRANSFORMERS_CACHE = 'transformers-cache';
/** Workbox's precache (`workbox-precache-v2-<scope>`) and our runtime cache of questions files. */
const APP_CACHES = [/^workbox-precache/, /^sdg-questions$/];

const AGAIN = 'needs the network';

/** Every entry, largest first. A store that cannot be read is skipped, not fatal. */
export async function listStorage(cacheStorage: CacheStorage | undefined = globalThis.caches): Promise<StoredEntry[]> {
  const parts = await Promise.all([cacheEntries(cacheStorage), wllamaEntries()]);
  return parts.flat().sort((a, b) => b.bytes - a.bytes);
}

async function cacheEntries(cacheStorage: CacheStorage | undefined): Promise<StoredEntry[]> {
  if (!cacheStorage) return [];
  const names = await cacheStorage.keys();
  const entries: StoredEntry[] = [];
  const webllm = names.filter((name) => name.startsWith(WEBLLM_PREFIX));
  const app = names.filter((name) => APP_CACHES.some((pattern) => pattern.test(name)));
  if (names.includes(SHARD_CACHE_NAME)) entries.push(...(await indexEntries(await cacheStorage.open(SHARD_CACHE_NAME))));
  if (webllm.length) entries.push(await wholeCaches(cacheStorage, webllm, { id: 'webllm', kind: 'model', label: 'WebLLM model weights and libraries', consequence: `the next WebLLM load downloads them again (${AGAIN})` }));
  if (names.includes(TRANSFORMERS_CACHE)) entries.push(await wholeCaches(cacheStorage, [TRANSFORMERS_CACHE], { id: 'transformers', kind: 'embedder', label: 'Embedding models (transformers.js)', consequence: `indexes built with e5 fetch their query model again (${AGAIN})` }));
  if (app.length) entries.push(await wholeCaches(cacheStorage, app, { id: 'app', kind: 'app', label: 'The app itself (offline copy)', consequence: 'fetched again on the next visit online; until then the app does not open offline' }));
  const known = new Set([SHARD_CACHE_NAME, TRANSFORMERS_CACHE, ...webllm, ...app]);
  for (const name of names.filter((n) => !known.has(n))) {
    entries.push(await wholeCaches(cacheStorage, [name], { id: `cache:${name}`, kind: 'other', label: `Cache "${name}"`, consequence: 'whatever uses it fetches its files again' }));
  }
  return entries;
}

/** Index files grouped by the folder they came from: one entry per index, named by its cached manifest. */
async function indexEntries(cache: Cache): Promise<StoredEntry[]> {
  const folders = new Map<string, { requests: Request[]; bytes: number; name?: string }>();
  for (const request of await cache.keys()) {
    const url = new URL(request.url);
    url.searchParams.delete(SHA_PARAM);
    const folder = url.href.slice(0, url.href.lastIndexOf('/') + 1);
    const group = folders.get(folder) ?? { requests: [], bytes: 0 };
    const response = await cache.match(request);
    group.requests.push(request);
    group.bytes += response ? await responseBytes(response) : 0;
    if (response && url.pathname.endsWith('/manifest.json')) group.name = await manifestName(response);
    folders.set(folder, group);
  }
  return [...folders].map(([folder, group]) => ({
    id: `index:${folder}`,
    kind: 'index' as const,
    label: `Index: ${group.name ?? new URL(folder).pathname}`,
    bytes: group.bytes,
    consequence: `the index is fetched again the next time it is opened (${AGAIN})`,
    remove: async () => {
      await Promise.all(group.requests.map((request) => cache.delete(request)));
    },
  }));
}

async function manifestName(response: Response): Promise<string | undefined> {
  try {
    const { name } = (await response.clone().json()) as { name?: unknown };
    return typeof name === 'string' && name ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Whole caches as one entry (an engine's stores, the app's copy); deleting drops the caches. */
async function wholeCaches(cacheStorage: CacheStorage, names: string[], entry: Omit<StoredEntry, 'bytes' | 'remove'>): Promise<StoredEntry> {
  let bytes = 0;
  for (const name of names) bytes += await cacheBytes(await cacheStorage.open(name));
  return { ...entry, bytes, remove: async () => void (await Promise.all(names.map((name) => cacheStorage.delete(name)))) };
}

async function cacheBytes(cache: Cache): Promise<number> {
  let bytes = 0;
  for (const request of await cache.keys()) {
    const response = await cache.match(request);
    if (response) bytes += await responseBytes(response);
  }
  return bytes;
}

/** Content-Length when the stored response has one (weights fetched from a server); else the body's size. */
async function responseBytes(response: Response): Promise<number> {
  const length = Number(response.headers.get('content-length'));
  if (Number.isFinite(length) && length > 0) return length;
  return (await response.clone().blob()).size;
}

/** GGUF files in wllama's OPFS cache, one entry per file (a split model's shards are listed each). */
async function wllamaEntries(): Promise<StoredEntry[]> {
  if (!('storage' in navigator) || typeof navigator.storage.getDirectory !== 'function') return [];
  try {
    // wllama is a large module: loaded only when the panel asks, as the engine itself is.
    const { CacheManager } = await import('@wllama/wllama/esm/index.js');
    const manager = new CacheManager();
    return (await manager.list()).map((file) => {
      const url = file.metadata.originalURL;
      // Finished, even when the host sent no Content-Length and wllama recorded 0 bytes (see wllama-store.ts).
      const complete = finishedDownload(file);
      const shown = url ? (url.split('/').pop() ?? url) : file.name.replace(/^[0-9a-f]{40}_/, '');
      return {
        id: `wllama:${file.name}`,
        kind: 'model' as const,
        label: `wllama model: ${shown}${complete ? '' : ' (incomplete download)'}`,
        bytes: file.size,
        consequence: `the next wllama load of this model downloads it again (${AGAIN})`,
        remove: () => manager.delete(file.name),
      };
    });
  } catch (error) {
    console.warn(`wllama's model cache could not be read: ${errorMessage(error)}`);
    return [];
  }
}

export interface Usage {
  usage: number;
  quota: number;
}

export async function storageUsage(): Promise<Usage | null> {
  if (!navigator.storage?.estimate) return null;
  const { usage, quota } = await navigator.storage.estimate();
  return usage === undefined || quota === undefined ? null : { usage, quota };
}

export type Persistence = 'granted' | 'denied' | 'unsupported';

/** Asks the browser not to evict this origin's data under storage pressure. */
export async function requestPersistence(): Promise<Persistence> {
  if (!navigator.storage?.persist) return 'unsupported';
  return (await navigator.storage.persist()) ? 'granted' : 'denied';
}

export async function isPersisted(): Promise<boolean> {
  return (await navigator.storage?.persisted?.()) ?? false;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} KB`;
  if (bytes < 1e9) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${(bytes / 1e9).toFixed(2)} GB`;
}
