/**
 * The page's side of the retrieval worker, and the agent's Retriever: each search is a ticket, so a
 * newer query (or a cancelled run) makes the worker drop the older one at its next step.
 */
import * as Comlink from 'comlink';
import type { Passage, Retriever } from '../core/agent/retriever.ts';
import type { IndexInfo, OpenRequest, RetrievalApi, RetrievalStats } from './retrieval-protocol.ts';
import type { RetrievalMode } from './sharded-index.ts';
import type { LoadProgress } from '../core/util/load-progress.ts';
import { connectSourcesIn } from '../core/util/connect-policy.ts';

const READY_TIMEOUT_MS = 30_000;

/** Where the build puts USE-lite's model files (see vite.config.ts). */
const USE_LITE_PATH = 'models/use-lite/';

/** The page's policies as the browser holds them (the static one and the one added at start-up). */
function pageConnectPolicies(): string[][] {
  const metas = document.querySelectorAll<HTMLMetaElement>('meta[http-equiv="Content-Security-Policy"]');
  return Array.from(metas, (meta) => connectSourcesIn(meta.content)).filter((sources) => sources !== null);
}

/** A search (embedding included) takes milliseconds; one this late means the worker is stuck. */
const SEARCH_TIMEOUT_MS = 30_000;

export class RetrievalClient implements Retriever {
  mode: RetrievalMode = 'lexical';
  private ticket = 0;
  private failure: Error | null = null;
  /** Rejects once the worker is gone, so no call waits forever on a dead worker. */
  private readonly gone: Promise<never>;
  private markGone: (error: Error) => void = () => undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly api: Comlink.Remote<RetrievalApi>,
    private readonly onFailure: (error: Error) => void,
  ) {
    this.gone = new Promise<never>((_, reject) => (this.markGone = reject));
    this.gone.catch(() => undefined);
    // After the handshake, an uncaught error in the worker means its state can no longer be trusted.
    worker.addEventListener('error', (event) => this.fail(new Error(`the retrieval worker crashed: ${event.message || 'script error'}`)));
  }

  /** `onFailure` hears once when the worker crashes or stops answering; the client is dead after that. */
  static async start(onFailure: (error: Error) => void = () => undefined): Promise<RetrievalClient> {
    const worker = new Worker(new URL('../../workers/retrieval.worker.ts', import.meta.url), { type: 'module', name: 'retrieval' });
    await whenReady(worker);
    return new RetrievalClient(worker, Comlink.wrap<RetrievalApi>(worker), onFailure);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.markGone(error);
    this.worker.terminate();
    this.onFailure(error);
  }

  /** A worker call that fails when the worker dies, or after `timeoutMs` (then the worker is given up). */
  private call<T>(work: Promise<T>, timeoutMs?: number): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const racers: Promise<T>[] = [work, this.gone];
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (timeoutMs !== undefined) {
      racers.push(new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          this.fail(new Error(`the retrieval worker did not answer within ${timeoutMs / 1000} s`));
          reject(this.failure);
        }, timeoutMs);
      }));
    }
    return Promise.race(racers).finally(() => clearTimeout(timer));
  }

  /**
   * Relative URLs resolve against the page, as do the app's own USE-lite weights. `embeddingModelsUrl`
   * points transformers.js at self-hosted models, not the hub.
   */
  open(manifestUrl: string, onProgress: (progress: LoadProgress) => void, embeddingModelsUrl?: string): Promise<IndexInfo> {
    const page = (path: string) => new URL(path, document.baseURI).href;
    const request: OpenRequest = { manifestUrl: page(manifestUrl), useLiteUrl: page(USE_LITE_PATH), ...(embeddingModelsUrl && { embeddingModelsUrl: page(embeddingModelsUrl) }), connectPolicies: pageConnectPolicies() };
    return this.call(this.api.open(request, Comlink.proxy(onProgress)));
  }

  /** Drops the passage texts the worker holds (they are read again from the cache when needed); bytes freed. */
  trim(): Promise<number> {
    return this.call(this.api.trim());
  }

  stats(): Promise<RetrievalStats> {
    return this.call(this.api.stats());
  }

  /** Copies the open index for offline use; false when it is too large to copy whole. */
  prefetch(onProgress: (progress: LoadProgress) => void): Promise<boolean> {
    return this.call(this.api.prefetch(Comlink.proxy(onProgress)));
  }

  search(query: string, k: number, signal?: AbortSignal): Promise<Passage[]> {
    return this.searchIn(this.mode, query, k, signal);
  }

  /** A Retriever fixed to one mode, whatever the page's mode is later (a benchmark run's setting). */
  inMode(mode: RetrievalMode): Retriever {
    return { search: (query, k, signal) => this.searchIn(mode, query, k, signal) };
  }

  private async searchIn(mode: RetrievalMode, query: string, k: number, signal?: AbortSignal): Promise<Passage[]> {
    signal?.throwIfAborted();
    const ticket = ++this.ticket;
    const onAbort = () => void this.api.cancel(++this.ticket);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.call(this.api.search(query, mode, k, ticket), SEARCH_TIMEOUT_MS);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  terminate(): void {
    this.api[Comlink.releaseProxy]();
    this.worker.terminate();
  }
}

function whenReady(worker: Worker): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the retrieval worker did not start within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    const onMessage = (event: MessageEvent) => {
      if ((event.data as { type?: unknown } | null)?.type !== 'ready') return;
      cleanup();
      resolve();
    };
    const onError = (event: ErrorEvent) => fail(new Error(`the retrieval worker failed to start: ${event.message || 'script error'}`));
    function fail(error: Error) {
      cleanup();
      worker.terminate();
      reject(error);
    }
    function cleanup() {
      clearTimeout(timer);
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
    }
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
  });
}
