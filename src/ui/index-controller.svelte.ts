/**
 * The open index: the built indexes to pick from, opening one in the retrieval worker (started once,
 * restarted when it crashes), and keeping the open index when another fails to open. `state` is what the
 * index form shows; `retriever` is what runs search: null while an index loads, and whenever none is
 * open in a live worker. Instead of a local index, runs may search a retrieval server (Search-R1's
 * protocol, src/retrieval/remote-retriever.ts): it ranks with its own index. An index whose vectors the builder is still embedding (`npm run dev`'s first run)
 * shows how far it has got, and is opened again by itself once they land.
 */
import { errorMessage } from '../core/util/error-message.ts';
import { CATALOG_FILE, parseCatalog, type CatalogEntry } from '../core/index/index-catalog.ts';
import { embeddingProgressUrl, parseEmbeddingProgress, type EmbeddingProgress } from '../core/index/embedding-progress.ts';
import type { RetrievalClient } from '../retrieval/retrieval-client.ts';
import { RemoteRetriever } from '../retrieval/remote-retriever.ts';
import type { IndexInfo, OpenRequest } from '../retrieval/retrieval-protocol.ts';
import { plural } from '../core/util/plural.ts';
import { mb } from '../storage/quota.ts';
import type { LoadState } from './load-state.ts';
import { allowIndexServerAndReload, blockedOrigin } from './page-policy.ts';

/** The part of the retrieval worker's client the page uses. */
export type IndexClient = Pick<RetrievalClient, 'open' | 'prefetch' | 'trim' | 'inMode'>;

/** What runs search: the worker's open index in a mode, or a retrieval server (whatever the mode). */
export type SearchSource = Pick<IndexClient, 'inMode'>;

/** Starts a retrieval worker; `onFailure` hears once when it crashes or hangs (the client is dead then). */
export type StartWorker = (onFailure: (error: Error) => void) => Promise<IndexClient>;

/** Reads the builder's progress file at a URL: null when there is none, or none readable. */
export type ReadEmbeddingProgress = (url: string) => Promise<EmbeddingProgress | null>;

export const readEmbeddingProgress: ReadEmbeddingProgress = async (url) => {
  try {
    const response = await fetch(url, { cache: 'no-store' });
    return response.ok ? parseEmbeddingProgress(await response.json()) : null;
  } catch {
    return null;
  }
};

/** How often the progress file is read while the vectors are being embedded. */
const EMBEDDING_POLL_MS = 2_000;

/** Crashes in a row (without the user opening an index) after which the worker is not restarted again. */
export const MAX_WORKER_RESTARTS = 3;

/** What the page asks to open; the client adds where USE-lite's files are. */
type IndexRequest = Pick<OpenRequest, 'manifestUrl' | 'embeddingModelsUrl'>;

/** What was searched before a switch, for when the switch fails. */
interface Searched {
  info: IndexInfo;
  label: string;
  request: IndexRequest | null;
  retriever: SearchSource;
  server: string | null;
}

export class IndexController {
  state = $state.raw<LoadState>({ status: 'idle' });
  /** The open index (kept while another loads): its modes, and why dense search is off when it is. */
  info = $state.raw<IndexInfo | null>(null);
  retriever = $state.raw<SearchSource | null>(null);
  /** The retrieval server's endpoint while runs search one instead of a local index. */
  server = $state<string | null>(null);
  /** What happened to the index or the worker that the user should know (a crash, a recovery, no offline copy). */
  notice = $state<string | null>(null);
  /** The indexes built into this app (`indexes.json`), for the index picker. */
  catalog = $state.raw<CatalogEntry[]>([]);
  /** How far the builder has embedded the open index's vectors; null unless it is embedding them now. */
  embedding = $state.raw<EmbeddingProgress | null>(null);

  /** The worker, live or not; it has an index open only when `retriever` is set. */
  private client: IndexClient | null = null;
  private clientStart: Promise<IndexClient> | null = null;
  private request: IndexRequest | null = null;
  private workerRestarts = 0;
  private loads = 0;

  /** `beforeSwitch` cancels the runs that search the index, just before another one is opened. */
  constructor(
    private readonly startWorker: StartWorker,
    private readonly beforeSwitch: () => void,
    private readonly progress = { read: readEmbeddingProgress, pollMs: EMBEDDING_POLL_MS },
  ) {}

  /** The open index's embedding server when the page's policy keeps dense search from it: the page offers to allow it. */
  get blockedHost(): string | null {
    const info = this.info;
    return info?.embedderServer && !info.modes.includes('dense') ? blockedOrigin([info.embedderServer]) : null;
  }

  /** Allows the blocked embedding server and reloads; the page then opens this index again. */
  allowServer(): void {
    const host = this.blockedHost;
    if (host && this.request) allowIndexServerAndReload(host, this.request.manifestUrl);
  }

  /** Reads the list of built indexes; without one, the picker simply stays hidden. */
  async loadCatalog(): Promise<void> {
    try {
      const response = await fetch(CATALOG_FILE);
      this.catalog = response.ok ? parseCatalog(await response.json()) : [];
    } catch {
      this.catalog = [];
    }
  }

  /**
   * Opens an index by its manifest URL. An index built with a transformers.js embedder fetches it from
   * the hub, or from `embeddingModelsUrl`.
   */
  async load(manifestUrl: string, embeddingModelsUrl?: string): Promise<void> {
    this.beforeSwitch();
    this.workerRestarts = 0;
    this.notice = null;
    await this.open({ manifestUrl, ...(embeddingModelsUrl && { embeddingModelsUrl }) });
  }

  /** Gives back the passage texts the worker holds; they come back from the Cache API when needed. */
  release(): void {
    this.client?.trim().catch(() => undefined);
  }

  /**
   * Searches a retrieval server from now on. One small query first: a server that is down, refuses this
   * page's origin or speaks another protocol says so here, not in the middle of a run.
   */
  async connect(url: string): Promise<void> {
    this.beforeSwitch();
    this.notice = null;
    const previous = this.searched();
    this.retriever = null;
    const load = ++this.loads;
    this.embedding = null;
    this.state = { status: 'loading', progress: { text: `connecting to ${url}` } };
    try {
      const remote = new RemoteRetriever(url);
      await remote.search('Wikipedia', 1);
      if (load !== this.loads) return;
      this.request = null;
      this.server = remote.endpoint;
      this.info = { name: remote.endpoint, passages: 0, bytes: 0, modes: [], embedder: null, embedderServer: null, denseUnavailable: null };
      this.retriever = { inMode: () => remote };
      this.state = { status: 'ready', label: `${remote.endpoint} · retrieval server` };
    } catch (error) {
      if (load === this.loads) this.fail(previous, `Could not connect to ${url}`, error);
    }
  }

  /** The source runs search now, when there is one; a failed switch goes back to it. */
  private searched(): Searched | null {
    const { retriever, info, state } = this;
    return retriever && info && state.status === 'ready' ? { info, label: state.label, request: this.request, retriever, server: this.server } : null;
  }

  /** A switch failed: the previous source keeps serving when it still can, and a notice says why. */
  private fail(previous: Searched | null, what: string, error: unknown): void {
    // A local index lives in the worker: only a live one still has it open.
    const retriever = previous?.server ? previous.retriever : previous && this.client;
    if (previous && retriever) {
      this.info = previous.info;
      this.retriever = retriever;
      this.request = previous.request;
      this.server = previous.server;
      this.state = { status: 'ready', label: previous.label };
      this.notice = `${what}: ${errorMessage(error)}. Still using ${previous.label}.`;
      return;
    }
    this.info = null;
    this.state = { status: 'error', message: errorMessage(error) };
  }

  private async open(request: IndexRequest): Promise<void> {
    // The worker keeps its open index until a new one has opened: a bad URL must not lose it.
    const previous = this.searched();
    this.retriever = null;
    this.request = request;
    // A newer load (a second click, or a pick while the demo loads) makes this one's updates moot.
    const load = ++this.loads;
    const current = () => load === this.loads;
    this.embedding = null;
    let settled = false;
    this.state = { status: 'loading', progress: { text: `opening ${request.manifestUrl}`, fraction: 0 } };
    try {
      const client = await this.startClient();
      const info = await client.open(request.manifestUrl, (progress) => {
        if (current() && !settled) this.state = { status: 'loading', progress };
      }, request.embeddingModelsUrl || undefined);
      // Progress arrives on its own message port, so a late one can follow the result: it must not
      // turn a ready index back into a loading one.
      settled = true;
      if (!current()) return;
      this.info = info;
      this.retriever = client;
      this.server = null;
      this.state = { status: 'ready', label: `${info.name} · ${plural(info.passages, 'passage', 'passages')}` };
      this.keepOffline(client, info, current);
      void this.watchEmbedding(request, current);
    } catch (error) {
      settled = true;
      if (current()) this.fail(previous, `Could not open ${request.manifestUrl}`, error);
    }
  }

  /**
   * While the builder embeds the open index's vectors, its progress file says how far it is; once the
   * file is gone the builder has stopped (the complete manifest written, or interrupted), and the index
   * is opened again. Runs go on meanwhile: the worker keeps the open index until the new one has opened.
   */
  private async watchEmbedding(request: IndexRequest, current: () => boolean): Promise<void> {
    if (this.info?.embedder) return;
    const url = embeddingProgressUrl(request.manifestUrl);
    let progress = await this.progress.read(url);
    if (!progress) return;
    while (progress && current()) {
      this.embedding = progress;
      await new Promise((done) => setTimeout(done, this.progress.pollMs));
      progress = await this.progress.read(url);
    }
    if (current()) await this.reopen(request, current);
  }

  /** Opens the same index again, without a loading state: it stays searchable, and gains its new modes. */
  private async reopen(request: IndexRequest, current: () => boolean): Promise<void> {
    const client = this.retriever === this.client ? this.client : null;
    const info = client ? await client.open(request.manifestUrl, () => {}, request.embeddingModelsUrl || undefined).catch(() => null) : null;
    if (!current()) return;
    this.embedding = null;
    if (!client || !info || this.retriever !== client) return;
    this.info = info;
    this.keepOffline(client, info, current);
    void this.watchEmbedding(request, current);
  }

  /**
   * Passage texts load lazily; fetching the rest in the background makes the index work offline later.
   * A failure here (a full store, the network gone) costs only offline use: say so, keep searching.
   */
  private keepOffline(client: IndexClient, info: IndexInfo, current: () => boolean): void {
    client.prefetch(() => {}).then(
      (copied) => {
        if (!copied && current()) this.notice = `${info.name} is too large to keep whole for offline use (${mb(info.bytes)} MB): what you search is kept, the rest needs the network.`;
      },
      (error: unknown) => {
        if (current()) this.notice = `The index works, but could not be kept for offline use: ${errorMessage(error)}`;
      },
    );
  }

  /** The worker starts once, however many loads ask for it at the same time; a failed start is retried by the next load. */
  private async startClient(): Promise<IndexClient> {
    const start = (this.clientStart ??= this.startWorker((error) => this.onWorkerFailure(start, error)));
    try {
      this.client = await start;
      return this.client;
    } catch (error) {
      if (this.clientStart === start) this.clientStart = null;
      throw error;
    }
  }

  /** The worker crashed or hung: a run in flight fails with that error; the index is opened again in a new worker. */
  private onWorkerFailure(failed: Promise<IndexClient>, error: Error): void {
    if (this.clientStart !== failed) return;
    this.clientStart = null;
    this.client = null;
    // Runs on a retrieval server need no worker: the next local open starts a new one.
    if (this.server) return;
    this.retriever = null;
    if (++this.workerRestarts > MAX_WORKER_RESTARTS || !this.request) {
      this.state = { status: 'error', message: `${error.message}. It failed ${this.workerRestarts} times: reload the page.` };
      return;
    }
    this.notice = `${error.message}; it was restarted and the index opened again.`;
    void this.open(this.request);
  }
}

