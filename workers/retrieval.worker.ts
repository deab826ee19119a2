/**
 * The retrieval worker: opens a sharded index (manifest, checksummed shards, Cache API), embeds queries
 * with the index's own embedder and answers searches off the main thread. Spoken to through comlink;
 * posts `{ type: 'ready' }` once its modules are loaded, since messages sent earlier would be lost.
 */
import * as Comlink from 'comlink';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
// onnxruntime-web's runtime for transformers.js embedders, emitted as our own assets (else: a CDN).
import ortRuntime from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { Embedder } from '../src/core/embedder.ts';
import { errorMessage } from '../src/core/error-message.ts';
import { parseManifest, type EmbedderSpec } from '../src/core/index-manifest.ts';
import type { Passage } from '../src/core/retriever.ts';
import { TransformersEmbedder, type TransformersEmbedderOptions } from '../src/embedders/transformers.ts';
import { UseLiteEmbedder } from '../src/embedders/use-lite.ts';
import { fetchNetworkFirst, openShardCache } from '../src/retrieval/cache-storage.ts';
import { ShardedIndex, type IndexMemory, type OpenProgress, type RetrievalMode } from '../src/retrieval/sharded-index.ts';
import { shardSource } from '../src/retrieval/shard-source.ts';
import { rangeSource } from '../src/retrieval/range-source.ts';

export interface OpenRequest {
  manifestUrl: string;
  /** Folder serving USE-lite's model.json, weight shards and vocab.json. */
  useLiteUrl: string;
  /** A folder of self-hosted transformers.js models (`{model}/config.json`, …); without it, the hub. */
  embeddingModelsUrl?: string;
  /** Bytes of passage texts kept decoded in the worker (ShardedIndex's default when absent). */
  passageBudgetBytes?: number;
}

export interface IndexInfo {
  name: string;
  passages: number;
  /** All its files' bytes. */
  bytes: number;
  modes: RetrievalMode[];
  embedder: string | null;
  denseUnavailable: string | null;
}

export interface RetrievalStats {
  memory: IndexMemory | null;
  /** Range bytes read since the worker started, from the network and from the Cache API. */
  fetched: { network: number; cache: number };
}

const MANIFEST_MAX_BYTES = 1_000_000;

let index: ShardedIndex | null = null;
let latestTicket = 0;
const fetched = { network: 0, cache: 0 };

async function loadEmbedder(spec: EmbedderSpec, request: OpenRequest, onProgress: (progress: OpenProgress) => void): Promise<Embedder> {
  if (spec.kind === 'transformers') return loadTransformers(spec, request, onProgress);
  const wasmPaths = { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded };
  return UseLiteEmbedder.load(async (name) => {
    const url = new URL(name, request.useLiteUrl).href;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }, wasmPaths);
}

/** fp32, as the builder embeds passages: quantised query vectors would drift from the passages'. */
function loadTransformers(spec: EmbedderSpec, request: OpenRequest, onProgress: (progress: OpenProgress) => void): Promise<Embedder> {
  return TransformersEmbedder.load({
    model: spec.model,
    dtype: 'fp32',
    ...modelSource(request.embeddingModelsUrl),
    wasmPaths: { mjs: new URL(ortRuntime, self.location.href).href, wasm: new URL(ortWasm, self.location.href).href },
    onProgress: ({ text, loaded, total }) => onProgress({ text, loaded: loaded ?? 0, total: total ?? 0 }),
  });
}

/**
 * The hub, or a self-hosted folder of `{model}/…` files. A same-origin folder is given to
 * transformers.js as a path: it probes local models for a tokenizer only when their path is not a
 * full URL, and would silently load none.
 */
function modelSource(url?: string): Pick<TransformersEmbedderOptions, 'allowRemote' | 'localModelPath' | 'remoteHost' | 'remotePathTemplate'> {
  if (!url) return { allowRemote: true };
  const folder = new URL(url);
  if (folder.origin === self.location.origin) return { allowRemote: false, localModelPath: folder.pathname };
  return { allowRemote: true, remoteHost: folder.href, remotePathTemplate: '{model}/' };
}

async function fetchJson(url: string, maxBytes: number): Promise<unknown> {
  // Offline, the copy kept beside the shards: the manifest is what makes them reachable.
  const response = await fetchNetworkFirst(url);
  if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > maxBytes) throw new Error(`${url} is larger than ${maxBytes} bytes`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${url} is not valid JSON`);
  }
}

/** Opens asked for so far: only the newest one installs its index. */
let opens = 0;
/** Opens run one after another: two at once would load two embedders and race on tfjs's backend. */
let openQueue: Promise<unknown> = Promise.resolve();

function superseded(mine: number): void {
  if (mine !== opens) throw new Error('a newer index was opened meanwhile');
}

async function openIndex(request: OpenRequest, onProgress: (progress: OpenProgress) => void, mine: number): Promise<IndexInfo> {
  superseded(mine);
  const manifest = parseManifest(await fetchJson(request.manifestUrl, MANIFEST_MAX_BYTES));
  let embedder: Embedder | null = null;
  let embedderError: string | undefined;
  if (manifest.vectors) {
    onProgress({ text: `loading the query embedder (${manifest.vectors.embedder.id})`, loaded: 0, total: 0 });
    embedder = await loadEmbedder(manifest.vectors.embedder, request, onProgress).catch((error: unknown) => {
      embedderError = errorMessage(error);
      return null;
    });
  }
  const base = new URL('.', request.manifestUrl);
  const cache = await openShardCache();
  const fetchShard = shardSource({ base, cache });
  const fetchRange = rangeSource({ base, cache, onFetched: (bytes, fromCache) => (fromCache ? (fetched.cache += bytes) : (fetched.network += bytes)) });
  const opened = await ShardedIndex.open(manifest, { fetchShard, fetchRange, embedder, ...(embedderError && { embedderError }), onProgress, ...(request.passageBudgetBytes !== undefined && { passageBudgetBytes: request.passageBudgetBytes }) });
  if (mine !== opens) await opened.dispose();
  superseded(mine);
  await index?.dispose();
  index = opened;
  return { name: manifest.name, passages: opened.size, bytes: opened.bytes, modes: opened.modes, embedder: embedder?.id ?? null, denseUnavailable: opened.denseUnavailable };
}

const api = {
  open(request: OpenRequest, onProgress: (progress: OpenProgress) => void): Promise<IndexInfo> {
    const mine = ++opens;
    const next = openQueue.then(() => openIndex(request, onProgress, mine));
    openQueue = next.catch(() => undefined);
    return next;
  },

  /** Tickets increase with every query; a query overtaken by a newer one stops at its next step. */
  async search(query: string, mode: RetrievalMode, k: number, ticket: number): Promise<Passage[]> {
    if (!index) throw new Error('no index is open');
    latestTicket = Math.max(latestTicket, ticket);
    return index.search(query, { mode, k, isStale: () => ticket < latestTicket });
  },

  /** Marks every query before `ticket` stale: the page cancelled them. */
  cancel(ticket: number): void {
    latestTicket = Math.max(latestTicket, ticket);
  },

  /** Whether the whole index was copied for offline use (false: too large, only what is searched is kept). */
  async prefetch(onProgress: (progress: OpenProgress) => void): Promise<boolean> {
    return (await index?.prefetch(onProgress)) ?? false;
  },

  /** What the open index holds in memory and what this worker has fetched. */
  stats(): RetrievalStats {
    return { memory: index?.memory ?? null, fetched: { ...fetched } };
  },

  /** Frees the passage texts held in memory (the page is under memory pressure); returns the bytes
   * freed. Searches still work: a hit fetches its shard again, from the Cache API when it is there. */
  trim(): number {
    return index?.evictPassages() ?? 0;
  },
};

export type RetrievalWorkerApi = typeof api;

Comlink.expose(api);
self.postMessage({ type: 'ready' });
