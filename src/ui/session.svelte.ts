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
import { etaSeconds, type ByteSample } from '../core/eta.ts';
import { CATALOG_FILE, parseCatalog, type CatalogEntry } from '../core/index-catalog.ts';
import { loadEngine, type EngineSettings } from '../engines/load.ts';
import { RetrievalClient } from '../retrieval/retrieval-client.ts';
import type { RetrievalMode } from '../retrieval/sharded-index.ts';
import type { IndexInfo } from '../../workers/retrieval.worker.ts';
import { RunView } from './run.svelte.ts';
import { SettingsStore } from './settings.svelte.ts';

export type LoadState =
  | { status: 'idle' }
  | { status: 'loading'; progress: LoadProgress; etaSeconds?: number }
  | { status: 'ready'; label: string; fromCache?: boolean }
  | { status: 'error'; message: string };

/** The UI caps questions here: a prompt must fit the small models' context with room for passages. */
export const MAX_QUESTION_CHARS = 1_000;

export class Session {
  engineState = $state<LoadState>({ status: 'idle' });
  corpusState = $state<LoadState>({ status: 'idle' });
  readonly settings = new SettingsStore();
  /** The Ask page's run. */
  readonly current = new RunView();

  private engine: LlmEngine | null = null;
  /** The indexes built into this app (`indexes.json`), for the index picker. */
  catalog = $state.raw<CatalogEntry[]>([]);
  /** The open index: its modes, and why dense search is off when it is. */
  index = $state<IndexInfo | null>(null);

  private retriever: RetrievalClient | null = null;
  /** The worker starts once, however many loads ask for it at the same time. */
  private retrieverStart: Promise<RetrievalClient> | null = null;
  private indexLoads = 0;
  private indexReady = false;
  /** Other pages' runs (Compare), cancelled like the Ask page's when the model or index changes. */
  private readonly cancelHooks: (() => void)[] = [];

  async loadEngine(settings: EngineSettings): Promise<void> {
    this.cancel();
    await this.engine?.unload();
    this.engine = null;
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
      this.engine = await loadEngine(settings, onProgress);
      this.engineState = { status: 'ready', label: this.engine.label, fromCache };
    } catch (error) {
      this.engineState = { status: 'error', message: errorMessage(error) };
    }
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
    this.indexReady = false;
    // A newer load (a second click, or a pick while the demo loads) makes this one's updates moot.
    const load = ++this.indexLoads;
    const current = () => load === this.indexLoads;
    let settled = false;
    this.corpusState = { status: 'loading', progress: { text: `opening ${manifestUrl}` } };
    try {
      this.retrieverStart ??= RetrievalClient.start();
      const retriever = await this.retrieverStart;
      this.retriever = retriever;
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
      retriever.prefetch(() => {}).catch((error: unknown) => console.warn(`index prefetch: ${errorMessage(error)}`));
    } catch (error) {
      settled = true;
      if (!current()) return;
      this.retrieverStart = this.retriever ? this.retrieverStart : null;
      this.index = null;
      this.corpusState = { status: 'error', message: errorMessage(error) };
    }
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

  /** Registers another page's cancel, for when the model or index changes under it. */
  onCancel(hook: () => void): void {
    this.cancelHooks.push(hook);
  }

  cancel(): void {
    this.current.cancel();
    for (const hook of this.cancelHooks) hook();
  }
}
