/**
 * The page's state: the loaded engine and corpus, and the current run's events. Components render this
 * and call its methods; all agent logic stays in src/core.
 */
import type { LlmEngine, LoadProgress } from '../core/engine.ts';
import type { Retriever } from '../core/retriever.ts';
import type { AgentDeps } from '../core/agent.ts';
import { alwaysSearch } from '../core/policy.ts';
import { agentConfig, runRetriever } from '../core/run-settings.ts';
import { errorMessage } from '../core/error-message.ts';
import { mb } from '../storage/quota.ts';
import { etaSeconds, type ByteSample } from '../core/eta.ts';
import { DEFAULT_CALL_TIMEOUT_MS, guardEngine } from '../core/engine-guard.ts';
import { CATALOG_FILE, parseCatalog, type CatalogEntry } from '../core/index-catalog.ts';
import { checkEngineSettings, loadEngine, type EngineSettings } from '../engines/load.ts';
import { RetrievalClient } from '../retrieval/retrieval-client.ts';
import type { RetrievalMode } from '../retrieval/sharded-index.ts';
import type { IndexInfo } from '../retrieval/retrieval-protocol.ts';
import { RunView } from './run.svelte.ts';
import { SettingsStore } from './settings.svelte.ts';
import { blockedOrigin, engineUrls } from './page-policy.ts';

export type LoadState =
  | { status: 'idle' }
  | { status: 'loading'; progress: LoadProgress; etaSeconds?: number }
  | { status: 'ready'; label: string; fromCache?: boolean }
  | { status: 'error'; message: string };

/** Crashes in a row (without the user opening an index) after which the worker is not restarted again. */
const MAX_WORKER_RESTARTS = 3;

/** The UI caps questions here: a prompt must fit the small models' context with room for passages. */
export const MAX_QUESTION_CHARS = 1_000;

export class Session {
  engineState = $state<LoadState>({ status: 'idle' });
  corpusState = $state<LoadState>({ status: 'idle' });
  readonly settings = new SettingsStore();
  /** One question box text for the Ask and Compare pages: switching pages keeps what the user typed. */
  question = $state('Which city was the mother of Ada Lovelace born in?');
  /** The Ask page's run. */
  readonly current = new RunView();

  private engine: LlmEngine | null = null;
  /** The indexes built into this app (`indexes.json`), for the index picker. */
  catalog = $state.raw<CatalogEntry[]>([]);
  /** The open index: its modes, and why dense search is off when it is. */
  index = $state<IndexInfo | null>(null);

  /** What happened to the engine or the retrieval worker that the user should know (a crash, a recovery). */
  engineNotice = $state<string | null>(null);
  indexNotice = $state<string | null>(null);
  /** A model host the page's Content-Security-Policy does not allow yet (the user may allow it and reload). */
  blockedHost = $state<string | null>(null);

  private engineSettings: EngineSettings | null = null;
  private retriever: RetrievalClient | null = null;
  private retrieverStart: Promise<RetrievalClient> | null = null;
  private lastIndex: { manifestUrl: string; embeddingModelsUrl?: string } | null = null;
  private workerRestarts = 0;
  private indexLoads = 0;
  private indexReady = false;
  /** Other pages' runs (Compare), cancelled like the Ask page's when the model or index changes. */
  private readonly cancelHooks: (() => void)[] = [];

  async loadEngine(settings: EngineSettings): Promise<void> {
    this.engineNotice = null;
    this.blockedHost = null;
    try {
      await checkEngineSettings(settings);
    } catch (error) {
      if (this.engine && this.engineState.status === 'ready') this.engineNotice = `Not loaded: ${errorMessage(error)} Still using ${this.engine.label}.`;
      else this.engineState = { status: 'error', message: errorMessage(error) };
      return;
    }
    // Checked before the loaded model is let go: the load could not reach the host anyway.
    this.blockedHost = blockedOrigin(engineUrls(settings));
    if (this.blockedHost) return;
    this.cancel();
    await this.openEngine(settings);
  }

  /** Loads without touching runs: a recovery must let the failed run end with its own error. */
  private async openEngine(settings: EngineSettings): Promise<void> {
    const old = this.engine;
    this.engine = null;
    await old?.unload().catch(() => undefined);
    this.engineSettings = settings;
    this.engineState = { status: 'loading', progress: { text: 'starting' } };
    let first: ByteSample | null = null;
    let fromCache = false;
    const onProgress = (progress: LoadProgress): void => {
      fromCache ||= progress.fromCache === true;
      const latest = { bytes: progress.loadedBytes ?? 0, ms: performance.now() };
      first ??= progress.loadedBytes === undefined ? null : latest;
      const eta = first && etaSeconds(first, latest, progress.totalBytes);
      this.engineState = { status: 'loading', progress, ...(eta !== null && { etaSeconds: eta }) };
    };
    try {
      const engine: LlmEngine = guardEngine(await loadEngine(settings, onProgress), {
        callTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
        onFatal: (error) => void this.recoverEngine(engine, error),
      });
      this.engine = engine;
      this.engineState = { status: 'ready', label: engine.label, fromCache };
    } catch (error) {
      this.engineState = { status: 'error', message: errorMessage(error) };
    }
  }

  /** A lost GPU, an aborted wasm module or a hung call: the run that hit it has failed; load the model again. */
  private async recoverEngine(broken: LlmEngine, error: Error): Promise<void> {
    if (this.engine !== broken || !this.engineSettings) return;
    this.engineNotice = `The engine stopped (${error.message}). The model was loaded again.`;
    await this.openEngine(this.engineSettings);
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
   * Opens an index by its manifest URL in the retrieval worker (started once, on first use). An index
   * built with a transformers.js embedder fetches it from the hub, or from `embeddingModelsUrl`.
   */
  async loadIndex(manifestUrl: string, embeddingModelsUrl?: string): Promise<void> {
    this.cancel();
    this.workerRestarts = 0;
    this.indexNotice = null;
    await this.openIndex(manifestUrl, embeddingModelsUrl);
  }

  private async openIndex(manifestUrl: string, embeddingModelsUrl?: string): Promise<void> {
    // The worker keeps its open index until a new one has opened: a bad URL must not lose it.
    const previous = this.indexReady && this.index && this.corpusState.status === 'ready' ? { info: this.index, label: this.corpusState.label, request: this.lastIndex } : null;
    this.indexReady = false;
    this.lastIndex = { manifestUrl, ...(embeddingModelsUrl && { embeddingModelsUrl }) };
    // A newer load (a second click, or a pick while the demo loads) makes this one's updates moot.
    const load = ++this.indexLoads;
    const current = () => load === this.indexLoads;
    let settled = false;
    this.corpusState = { status: 'loading', progress: { text: `opening ${manifestUrl}` } };
    try {
      const retriever = await this.startRetriever();
      const info = await retriever.open(manifestUrl, ({ text, loaded, total }) => {
        if (current() && !settled) this.corpusState = { status: 'loading', progress: { text, loadedBytes: loaded, totalBytes: total, ...(total > 0 && { fraction: loaded / total }) } };
      }, embeddingModelsUrl || undefined);
      // Progress arrives on its own message port, so a late one can follow the result: it must not
      // turn a ready index back into a loading one.
      settled = true;
      if (!current()) return;
      this.index = info;
      this.indexReady = true;
      this.corpusState = { status: 'ready', label: `${info.name} · ${info.passages} passages` };
      // Passage texts load lazily; fetching the rest in the background makes the index work offline later.
      // A failure here (a full store, the network gone) costs only offline use: say so, keep searching.
      retriever.prefetch(() => {}).then(
        (copied) => {
          if (!copied && current()) this.indexNotice = `${info.name} is too large to keep whole for offline use (${mb(info.bytes)} MB): what you search is kept, the rest needs the network.`;
        },
        (error: unknown) => {
          if (current()) this.indexNotice = `The index works, but could not be kept for offline use: ${errorMessage(error)}`;
        },
      );
    } catch (error) {
      settled = true;
      if (!current()) return;
      if (previous && this.retriever) {
        this.index = previous.info;
        this.indexReady = true;
        this.lastIndex = previous.request;
        this.corpusState = { status: 'ready', label: previous.label };
        this.indexNotice = `Could not open ${manifestUrl}: ${errorMessage(error)}. Still using ${previous.label}.`;
        return;
      }
      this.index = null;
      this.corpusState = { status: 'error', message: errorMessage(error) };
    }
  }

  /** The worker starts once, however many loads ask for it at the same time; a failed start is retried by the next load. */
  private async startRetriever(): Promise<RetrievalClient> {
    const start = (this.retrieverStart ??= RetrievalClient.start((error) => this.onRetrieverFailure(start, error)));
    try {
      this.retriever = await start;
      return this.retriever;
    } catch (error) {
      if (this.retrieverStart === start) this.retrieverStart = null;
      throw error;
    }
  }

  /** The worker crashed or hung: a run in flight fails with that error; the index is opened again in a new worker. */
  private onRetrieverFailure(failed: Promise<RetrievalClient>, error: Error): void {
    if (this.retrieverStart !== failed) return;
    this.retrieverStart = null;
    this.retriever = null;
    this.indexReady = false;
    if (++this.workerRestarts > MAX_WORKER_RESTARTS || !this.lastIndex) {
      this.corpusState = { status: 'error', message: `${error.message}. It failed ${this.workerRestarts} times: reload the page.` };
      return;
    }
    this.indexNotice = `${error.message}; it was restarted and the index opened again.`;
    void this.openIndex(this.lastIndex.manifestUrl, this.lastIndex.embeddingModelsUrl);
  }

  /** The loaded engine and index, for a benchmark run; null until both are ready. */
  benchDeps(mode: RetrievalMode): { engine: LlmEngine; retriever: Retriever; label: string } | null {
    if (!this.engine || !this.retriever || !this.indexReady) return null;
    return { engine: this.engine, retriever: this.retriever.inMode(mode), label: this.engine.label };
  }

  /**
   * The mode searches use: the user's choice when the open index offers it, else the index's first.
   * Lexical by default: on the demo index (USE-lite vectors) recall@5 of the gold paragraphs over 400
   * HotpotQA questions is BM25 0.744, hybrid 0.715, dense 0.448 (`npm run bench:retrieval`).
   */
  get retrievalMode(): RetrievalMode {
    const modes = this.index?.modes ?? [];
    const wanted = this.settings.value.retrievalMode;
    return modes.includes(wanted) ? wanted : (modes[0] ?? 'lexical');
  }

  setRetrievalMode(mode: RetrievalMode): void {
    this.settings.update({ retrievalMode: mode });
  }

  /** The engine and the index as a run with the user's settings sees them (noise included). */
  runDeps(): AgentDeps | null {
    const deps = this.benchDeps(this.retrievalMode);
    return deps && { engine: deps.engine, retriever: runRetriever(deps.retriever, this.settings.value) };
  }

  /** Asks on the Ask page; a run already going there is cancelled first. */
  async ask(question: string): Promise<void> {
    const q = question.trim();
    const deps = this.runDeps();
    if (!q || q.length > MAX_QUESTION_CHARS || !deps) return;
    await this.current.run(q, deps, agentConfig(this.settings.value, alwaysSearch));
  }

  /**
   * A hidden tab gives back the passage texts its worker holds: the browser may be short of memory, and
   * they come back from the Cache API (checksummed) on the next search that needs them.
   */
  releaseMemory(): void {
    if (!this.current.running && this.retriever) this.retriever.trim().catch(() => undefined);
  }

  /** Registers another page's cancel, for when the model or index changes under it. */
  onCancel(hook: () => void): void {
    this.cancelHooks.push(hook);
  }

  cancel(): void {
    this.current.cancel();
    for (const hook of this.cancelHooks) hook();
  }
}
