/**
 * The page's state: the model and the index (each its own controller), the run settings, and the Ask
 * page's run. It joins them where a run needs both: a new model or index cancels every page's run, and a
 * run gets the loaded engine with the open index in the mode the settings and the index allow. All agent
 * logic stays in src/core.
 */
import type { LlmEngine } from '../core/agent/engine.ts';
import type { Retriever } from '../core/agent/retriever.ts';
import type { AgentDeps } from '../core/agent/agent.ts';
import { alwaysSearch } from '../core/agent/policy.ts';
import { agentConfig, runRetriever } from '../core/agent/run-settings.ts';
import { RetrievalClient } from '../retrieval/retrieval-client.ts';
import type { RetrievalMode } from '../retrieval/sharded-index.ts';
import { browserEngineLoader, EngineController, type EngineLoader } from './engine-controller.svelte.ts';
import { IndexController, type StartWorker } from './index-controller.svelte.ts';
import { RunView } from './run.svelte.ts';
import { SettingsStore } from './settings.svelte.ts';

/** The UI caps questions here: a prompt must fit the small models' context with room for passages. */
export const MAX_QUESTION_CHARS = 1_000;

/** Where engines and the retrieval worker come from: the browser's, or a test's fakes. */
export interface SessionDeps {
  engines: EngineLoader;
  startWorker: StartWorker;
}

const browserDeps: SessionDeps = { engines: browserEngineLoader, startWorker: (onFailure) => RetrievalClient.start(onFailure) };

export class Session {
  readonly settings = new SettingsStore();
  /** One question box text for the Ask and Compare pages: switching pages keeps what the user typed. */
  question = $state('Which city was the mother of Ada Lovelace born in?');
  /** The Ask page's run. */
  readonly current = new RunView();
  readonly engine: EngineController;
  readonly index: IndexController;
  /** Other pages' runs (Compare, Probe), cancelled like the Ask page's when the model or index changes. */
  private readonly cancelHooks: (() => void)[] = [];

  constructor(deps: SessionDeps = browserDeps) {
    this.engine = new EngineController(deps.engines, () => this.cancel());
    this.index = new IndexController(deps.startWorker, () => this.cancel());
  }

  /**
   * The loaded engine and the open index, for a benchmark run, with the retrieval server's endpoint when
   * it is one (null for the local index); null until both are ready.
   */
  benchDeps(mode: RetrievalMode): { engine: LlmEngine; retriever: Retriever; label: string; server: string | null } | null {
    const engine = this.engine.current;
    const retriever = this.index.retriever;
    return engine && retriever ? { engine, retriever: retriever.inMode(mode), label: engine.label, server: this.index.server } : null;
  }

  /**
   * The mode searches use: the user's choice when the open index offers it, else the index's first.
   * Lexical by default: on the demo index (USE-lite vectors) recall@5 of the gold paragraphs over 400
   * HotpotQA questions is BM25 0.744, hybrid 0.715, dense 0.448 (`npm run bench:retrieval`).
   */
  get retrievalMode(): RetrievalMode {
    const modes = this.index.info?.modes ?? [];
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
    if (!this.current.running) this.index.release();
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
