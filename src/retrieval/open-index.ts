/**
 * Opens an index from its manifest URL with what the place it runs in provides: the browser (network,
 * Cache API, wasm embedders from the app's assets) or Node (files on disk, the builder's embedders).
 * The one assembly of manifest, query embedder, checksummed sources and ShardedIndex.
 */
import type { Embedder } from '../core/agent/embedder.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { eagerVectorFiles, parseManifest, sumBytes, type EmbedderSpec, type IndexManifest } from '../core/index/index-manifest.ts';
import { rangeSource, type RangeSourceOptions } from './range-source.ts';
import type { IndexRequest } from './retrieval-protocol.ts';
import { ShardedIndex } from './sharded-index.ts';
import { phasedProgress, type LoadProgress } from '../core/util/load-progress.ts';
import { shardSource, type ShardCache } from './shard-source.ts';

export type LoadEmbedder<Request extends IndexRequest> = (spec: EmbedderSpec, request: Request, onProgress: (progress: LoadProgress) => void) => Promise<Embedder>;

export interface FetchedManifest {
  /** The manifest's parsed JSON. */
  json: unknown;
  /** Keeps the manifest for offline use; called only once its index has opened. */
  keep?: () => Promise<void>;
}

export interface IndexDependencies<Request extends IndexRequest> {
  fetchManifest: (url: string) => Promise<FetchedManifest>;
  /** Where verified shards and ranges are kept for offline use; none where the files are local. */
  openCache: () => Promise<ShardCache | undefined>;
  /** Shards and ranges, resolved against the manifest's folder. */
  fetch: typeof fetch;
  /** The query embedder of an index with vectors; without it, only lexical search is offered. */
  loadEmbedder?: LoadEmbedder<Request>;
}

export interface OpenHooks {
  onProgress: (progress: LoadProgress) => void;
  onFetched?: RangeSourceOptions['onFetched'];
}

export interface OpenedIndex {
  index: ShardedIndex;
  /** The embedder loaded for queries, whether or not it matches the index's vectors. */
  embedder: Embedder | null;
}

/** The manifest's share of the progress bar: it is small, and its size is unknown until it is read. */
const MANIFEST_SHARE = 0.02;

/**
 * About how many bytes a query embedder loads, to weigh it against the shards, whose bytes the manifest
 * gives: USE-lite's weights (26 MB), an e5-small ONNX model in fp32 (about 130 MB); a server's embedder
 * loads nothing (one small request).
 */
const EMBEDDER_BYTES: Record<EmbedderSpec['kind'], number> = { 'use-lite': 26e6, transformers: 130e6, openai: 0 };

/** Opens the index; one that fails to open leaves nothing in the cache that this open put there. */
export async function openIndex<Request extends IndexRequest>(request: Request, dependencies: IndexDependencies<Request>, hooks: OpenHooks): Promise<OpenedIndex> {
  hooks.onProgress({ text: `reading ${request.manifestUrl}`, fraction: 0 });
  const fetched = await dependencies.fetchManifest(request.manifestUrl);
  const manifest = parseManifest(fetched.json);
  const progress = openProgress(manifest, dependencies.loadEmbedder !== undefined, hooks.onProgress);
  const { embedder, embedderError } = await queryEmbedder(manifest, request, dependencies.loadEmbedder, progress.embedder);
  const base = new URL('.', request.manifestUrl);
  const opened = await dependencies.openCache();
  const cache = opened && new OpeningCache(opened);
  const sources = { base, fetch: dependencies.fetch, ...(cache && { cache }) };
  try {
    const index = await ShardedIndex.open(manifest, {
      fetchShard: shardSource(sources),
      fetchRange: rangeSource({ ...sources, ...(hooks.onFetched && { onFetched: hooks.onFetched }) }),
      embedder,
      ...(embedderError && { embedderError }),
      onProgress: progress.shards,
      ...(request.passageBudgetBytes !== undefined && { passageBudgetBytes: request.passageBudgetBytes }),
    });
    cache?.commit();
    await fetched.keep?.();
    return { index, embedder };
  } catch (error) {
    await cache?.rollback();
    throw error;
  }
}

/**
 * The cache as an open sees it: what the open puts there is noted, and taken out again if the open fails,
 * so the Storage panel never lists an index that did not open. What was cached before is left alone.
 */
class OpeningCache implements ShardCache {
  private state: 'opening' | 'opened' | 'failed' = 'opening';
  private readonly added = new Set<string>();

  constructor(private readonly inner: ShardCache) {}

  get(key: string): Promise<Uint8Array | undefined> {
    return this.inner.get(key);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (this.failed) return;
    await this.inner.put(key, bytes);
    // A download still running when the open failed lands after the rollback.
    if (this.failed) await this.inner.delete(key);
    else if (this.state === 'opening') this.added.add(key);
  }

  /** Read through a getter: the state may change while a put awaits. */
  private get failed(): boolean {
    return this.state === 'failed';
  }

  delete(key: string): Promise<void> {
    this.added.delete(key);
    return this.inner.delete(key);
  }

  /** The index opened: what it cached stays, and later queries cache as usual. */
  commit(): void {
    this.state = 'opened';
    this.added.clear();
  }

  async rollback(): Promise<void> {
    this.state = 'failed';
    await Promise.all([...this.added].map((key) => this.inner.delete(key)));
    this.added.clear();
  }
}

/** One bar over the open: the manifest's share, then the query embedder and the files fetched on open, by their bytes. */
function openProgress(manifest: IndexManifest, loadsEmbedder: boolean, onProgress: OpenHooks['onProgress']) {
  const { vectors } = manifest;
  const eager = [manifest.lexical.dictionary, manifest.passages.table, ...eagerVectorFiles(vectors)];
  const embedderBytes = vectors && loadsEmbedder ? EMBEDDER_BYTES[vectors.embedder.kind] : 0;
  return phasedProgress(onProgress, { embedder: embedderBytes, shards: sumBytes(eager) }, MANIFEST_SHARE);
}

/** A failed load is no failed open: the index still answers lexically, and says why not densely. */
async function queryEmbedder<Request extends IndexRequest>(manifest: IndexManifest, request: Request, load: LoadEmbedder<Request> | undefined, onProgress: OpenHooks['onProgress']): Promise<{ embedder: Embedder | null; embedderError?: string }> {
  if (!manifest.vectors || !load) return { embedder: null };
  onProgress({ text: `loading the query embedder (${manifest.vectors.embedder.id})` });
  try {
    return { embedder: await load(manifest.vectors.embedder, request, onProgress) };
  } catch (error) {
    return { embedder: null, embedderError: errorMessage(error) };
  }
}
