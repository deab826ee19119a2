/**
 * The page's state: the loaded engine and corpus, and the current run's events. Components render this
 * and call its methods; all agent logic stays in src/core.
 */
import type { LlmEngine, LoadProgress } from '../core/engine.ts';
import type { Retriever } from '../core/retriever.ts';
import { runAgent, type AgentEvent, type EndReason, type RunStats } from '../core/agent.ts';
import { alwaysSearch } from '../core/policy.ts';
import { errorMessage } from '../core/error-message.ts';
import { CATALOG_FILE, parseCatalog, type CatalogEntry } from '../core/index-catalog.ts';
import { loadEngine, type EngineSettings } from '../engines/load.ts';
import { RetrievalClient } from '../retrieval/retrieval-client.ts';
import type { RetrievalMode } from '../retrieval/sharded-index.ts';
import type { IndexInfo } from '../../workers/retrieval.worker.ts';

export type LoadState = { status: 'idle' } | { status: 'loading'; progress: LoadProgress } | { status: 'ready'; label: string } | { status: 'error'; message: string };

/** The UI caps questions here: a prompt must fit the small models' context with room for passages. */
export const MAX_QUESTION_CHARS = 1_000;

export class Session {
  engineState = $state<LoadState>({ status: 'idle' });
  corpusState = $state<LoadState>({ status: 'idle' });
  /** The run's events, without the text deltas (those only feed `liveText`). */
  events = $state.raw<AgentEvent[]>([]);
  /** What the model is writing in the current step, as it streams. */
  liveText = $state('');
  running = $state(false);
  end = $state<{ reason: EndReason; answer?: string; stats: RunStats } | null>(null);
  stats = $state<RunStats | null>(null);

  private engine: LlmEngine | null = null;
  /** The indexes built into this app (`indexes.json`), for the index picker. */
  catalog = $state.raw<CatalogEntry[]>([]);
  /** The open index: its modes, and why dense search is off when it is. */
  index = $state<IndexInfo | null>(null);
  /** Lexical by default: on the demo index (USE-lite vectors) recall@5 of the gold paragraphs over 400
   * HotpotQA questions is BM25 0.744, hybrid 0.715, dense 0.448 (`npm run bench:retrieval`). */
  retrievalMode = $state<RetrievalMode>('lexical');

  private retriever: RetrievalClient | null = null;
  /** The worker starts once, however many loads ask for it at the same time. */
  private retrieverStart: Promise<RetrievalClient> | null = null;
  private indexLoads = 0;
  private indexReady = false;
  private run: AbortController | null = null;

  async loadEngine(settings: EngineSettings): Promise<void> {
    this.cancel();
    await this.engine?.unload();
    this.engine = null;
    this.engineState = { status: 'loading', progress: { text: 'starting' } };
    try {
      this.engine = await loadEngine(settings, (progress) => (this.engineState = { status: 'loading', progress }));
      this.engineState = { status: 'ready', label: this.engine.label };
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
      this.setRetrievalMode(info.modes.includes(this.retrievalMode) ? this.retrievalMode : (info.modes[0] ?? 'lexical'));
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

  setRetrievalMode(mode: RetrievalMode): void {
    this.retrievalMode = mode;
    if (this.retriever) this.retriever.mode = mode;
  }

  /** Starts a run; a run already going is cancelled first. */
  async ask(question: string): Promise<void> {
    const q = question.trim();
    if (!q || q.length > MAX_QUESTION_CHARS || !this.engine || !this.retriever || !this.indexReady) return;
    this.cancel();
    const controller = new AbortController();
    this.run = controller;
    this.events = [];
    this.liveText = '';
    this.end = null;
    this.stats = null;
    this.running = true;
    try {
      for await (const event of runAgent(q, { engine: this.engine, retriever: this.retriever }, { policy: alwaysSearch, signal: controller.signal })) {
        if (this.run !== controller) return;
        this.record(event);
      }
    } finally {
      if (this.run === controller) {
        this.running = false;
        this.run = null;
      }
    }
  }

  cancel(): void {
    this.run?.abort();
  }

  private record(event: AgentEvent): void {
    if (event.type === 'text') {
      this.liveText += event.delta;
      return;
    }
    if (event.type === 'turn') this.liveText = '';
    if (event.type === 'stats') this.stats = event.stats;
    if (event.type === 'end') {
      this.end = event;
      this.stats = event.stats;
    }
    this.events = [...this.events, event];
  }
}
