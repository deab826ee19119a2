/**
 * The open index and the queries against it, as the retrieval worker serves them and the eval CLI uses
 * them: opens queue and supersede one another, the previous index answers until a new one has opened,
 * and a query overtaken by a newer ticket stops early. Where files and embedders come from is injected,
 * so the same service runs in a worker and in Node.
 */
import type { Passage } from '../core/agent/retriever.ts';
import { openIndex, type IndexDependencies } from './open-index.ts';
import type { IndexInfo, IndexRequest, RetrievalApi, RetrievalStats } from './retrieval-protocol.ts';
import type { RetrievalMode, ShardedIndex } from './sharded-index.ts';
import type { LoadProgress } from '../core/util/load-progress.ts';

export class RetrievalService<Request extends IndexRequest> implements RetrievalApi<Request> {
  private index: ShardedIndex | null = null;
  private latestTicket = 0;
  private readonly fetched = { network: 0, cache: 0 };
  /** Opens asked for so far: only the newest one installs its index. */
  private opens = 0;
  /** Opens run one after another: two at once would load two embedders and race on tfjs's backend. */
  private openQueue: Promise<unknown> = Promise.resolve();

  constructor(private readonly dependencies: IndexDependencies<Request>) {}

  open(request: Request, onProgress: (progress: LoadProgress) => void): Promise<IndexInfo> {
    const mine = ++this.opens;
    const next = this.openQueue.then(() => this.install(request, onProgress, mine));
    this.openQueue = next.catch(() => undefined);
    return next;
  }

  async search(query: string, mode: RetrievalMode, k: number, ticket: number): Promise<Passage[]> {
    if (!this.index) throw new Error('no index is open');
    this.latestTicket = Math.max(this.latestTicket, ticket);
    return this.index.search(query, { mode, k, isStale: () => ticket < this.latestTicket });
  }

  cancel(ticket: number): void {
    this.latestTicket = Math.max(this.latestTicket, ticket);
  }

  async prefetch(onProgress: (progress: LoadProgress) => void): Promise<boolean> {
    return (await this.index?.prefetch(onProgress)) ?? false;
  }

  stats(): RetrievalStats {
    return { memory: this.index?.memory ?? null, fetched: { ...this.fetched } };
  }

  trim(): number {
    return this.index?.trim() ?? 0;
  }

  /** Frees the open index's embedder, for a caller that outlives it (a worker is simply terminated);
   * an open still under way is superseded. */
  async close(): Promise<void> {
    this.opens++;
    await this.openQueue;
    await this.index?.dispose();
    this.index = null;
  }

  private async install(request: Request, onProgress: (progress: LoadProgress) => void, mine: number): Promise<IndexInfo> {
    this.superseded(mine);
    const { index, embedder } = await openIndex(request, this.dependencies, { onProgress, onFetched: this.count });
    if (mine !== this.opens) await index.dispose();
    this.superseded(mine);
    // Only now: until the new index is whole, the old one keeps answering.
    await this.index?.dispose();
    this.index = index;
    const spec = index.manifest.vectors?.embedder;
    return { name: index.manifest.name, passages: index.size, bytes: index.bytes, modes: index.modes, embedder: embedder?.id ?? null, denseUnavailable: index.denseUnavailable, embedderServer: spec?.kind === 'openai' ? spec.baseUrl : null };
  }

  private superseded(mine: number): void {
    if (mine !== this.opens) throw new Error('a newer index was opened meanwhile');
  }

  private readonly count = (bytes: number, fromCache: boolean): void => {
    if (fromCache) this.fetched.cache += bytes;
    else this.fetched.network += bytes;
  };
}
