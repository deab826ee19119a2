/**
 * What the page asks of the retrieval worker and what comes back: the RetrievalService's surface, which
 * the worker exposes through comlink and the eval CLI calls directly.
 */
import type { Passage } from '../core/agent/retriever.ts';
import type { IndexMemory, RetrievalMode } from './sharded-index.ts';
import type { LoadProgress } from '../core/util/load-progress.ts';

/** What every open names, wherever it runs. */
export interface IndexRequest {
  manifestUrl: string;
  /** Bytes of passage texts kept decoded (ShardedIndex's default when absent). */
  passageBudgetBytes?: number;
}

/** The page's open: also where the page serves the query embedders' files. */
export interface OpenRequest extends IndexRequest {
  /** Folder serving USE-lite's model.json, weight shards and vocab.json. */
  useLiteUrl: string;
  /** A folder of self-hosted transformers.js models (`{model}/config.json`, …); without it, the hub. */
  embeddingModelsUrl?: string;
  /**
   * The connect-src sources of each policy on the page. The worker is not bound by them, so it keeps
   * them itself: an index's embedding server is asked only when the page could ask it.
   */
  connectPolicies?: string[][];
}

export interface IndexInfo {
  name: string;
  passages: number;
  /** All its files' bytes. */
  bytes: number;
  modes: RetrievalMode[];
  embedder: string | null;
  denseUnavailable: string | null;
  /** The server that embeds this index's queries (an `openai` index), for the page to allow. */
  embedderServer: string | null;
}

export interface RetrievalStats {
  memory: IndexMemory | null;
  /** Range bytes read since the service started, from the network and from the cache. */
  fetched: { network: number; cache: number };
}

export interface RetrievalApi<Request extends IndexRequest = OpenRequest> {
  /** Replaces the open index once the new one has opened; a newer open supersedes this one. */
  open(request: Request, onProgress: (progress: LoadProgress) => void): Promise<IndexInfo>;
  /** Tickets increase with every query; a query overtaken by a newer one stops at its next step. */
  search(query: string, mode: RetrievalMode, k: number, ticket: number): Promise<Passage[]>;
  /** Marks every query before `ticket` stale: the page cancelled them. */
  cancel(ticket: number): void;
  /** Whether the whole index was copied for offline use (false: too large, only what is searched is kept). */
  prefetch(onProgress: (progress: LoadProgress) => void): Promise<boolean>;
  /** What the open index holds in memory and what has been fetched. */
  stats(): RetrievalStats;
  /** Frees the passage texts held in memory (the page is under memory pressure); returns the bytes
   * freed. Searches still work: a hit fetches its range again, from the cache when it is there. */
  trim(): number;
}
