/**
 * Opens an index from its manifest URL with what the place it runs in provides: the browser (network,
 * Cache API, wasm embedders from the app's assets) or Node (files on disk, the builder's embedders).
 * The one assembly of manifest, query embedder, checksummed sources and ShardedIndex.
 */
import type { Embedder } from '../core/agent/embedder.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { parseManifest, type EmbedderSpec, type IndexManifest } from '../core/index/index-manifest.ts';
import { rangeSource, type RangeSourceOptions } from './range-source.ts';
import type { IndexRequest } from './retrieval-protocol.ts';
import { ShardedIndex } from './sharded-index.ts';
import type { LoadProgress } from '../core/util/load-progress.ts';
import { shardSource, type ShardCache } from './shard-source.ts';

export type LoadEmbedder<Request extends IndexRequest> = (spec: EmbedderSpec, request: Request, onProgress: (progress: LoadProgress) => void) => Promise<Embedder>;

export interface IndexDependencies<Request extends IndexRequest> {
  /** The manifest's parsed JSON. */
  fetchManifest: (url: string) => Promise<unknown>;
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

export async function openIndex<Request extends IndexRequest>(request: Request, dependencies: IndexDependencies<Request>, hooks: OpenHooks): Promise<OpenedIndex> {
  const manifest = parseManifest(await dependencies.fetchManifest(request.manifestUrl));
  const { embedder, embedderError } = await queryEmbedder(manifest, request, dependencies.loadEmbedder, hooks.onProgress);
  const base = new URL('.', request.manifestUrl);
  const cache = await dependencies.openCache();
  const sources = { base, fetch: dependencies.fetch, ...(cache && { cache }) };
  const index = await ShardedIndex.open(manifest, {
    fetchShard: shardSource(sources),
    fetchRange: rangeSource({ ...sources, ...(hooks.onFetched && { onFetched: hooks.onFetched }) }),
    embedder,
    ...(embedderError && { embedderError }),
    onProgress: hooks.onProgress,
    ...(request.passageBudgetBytes !== undefined && { passageBudgetBytes: request.passageBudgetBytes }),
  });
  return { index, embedder };
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
