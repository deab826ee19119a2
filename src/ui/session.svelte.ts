/**
 * The page's state: the loaded engine and corpus, and the current run's events. Components render this
 * and call its methods; all agent logic stays in src/core.
 */
import type { LlmEngine, LoadProgress } from '../core/engine.ts';
import { runAgent, type AgentEvent, type EndReason, type RunStats } from '../core/agent.ts';
import { alwaysSearch } from '../core/policy.ts';
import { MemoryRetriever } from '../core/memory-retriever.ts';
import { parsePassagesJsonl } from '../core/corpus.ts';
import { errorMessage } from '../core/error-message.ts';
import { loadEngine, type EngineSettings } from '../engines/load.ts';

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
  private retriever: MemoryRetriever | null = null;
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

  async loadCorpus(url: string): Promise<void> {
    this.corpusState = { status: 'loading', progress: { text: `fetching ${url}` } };
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`could not fetch the corpus at ${url}: HTTP ${response.status}`);
      const { documents, skipped } = parsePassagesJsonl(await response.text());
      if (documents.length === 0) throw new Error(`the corpus at ${url} holds no valid passages (${skipped.length} bad lines)`);
      this.retriever = new MemoryRetriever(documents);
      const note = skipped.length ? `, ${skipped.length} bad lines skipped (first: line ${skipped[0]?.line}: ${skipped[0]?.reason})` : '';
      this.corpusState = { status: 'ready', label: `${this.retriever.size} passages${note}` };
    } catch (error) {
      this.corpusState = { status: 'error', message: errorMessage(error) };
    }
  }

  /** Starts a run; a run already going is cancelled first. */
  async ask(question: string): Promise<void> {
    const q = question.trim();
    if (!q || q.length > MAX_QUESTION_CHARS || !this.engine || !this.retriever) return;
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
