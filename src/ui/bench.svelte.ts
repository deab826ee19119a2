/**
 * The benchmark page's state: stored runs, the run in progress (with an ETA), pause and resume. The
 * scoring is the core's runner; this only feeds it the page's engine and index and keeps the results.
 */
import type { AgentDeps } from '../core/agent.ts';
import { failureOf, finishedIds, runBenchmark } from '../core/benchmark.ts';
import type { BenchQuestion } from '../core/datasets.ts';
import { errorMessage } from '../core/error-message.ts';
import { failingRetriever } from '../core/noise.ts';
import { alwaysSearch, noSearch } from '../core/policy.ts';
import { deleteRun, listRuns, saveRun, type BenchSettings, type StoredRun } from './bench-store.ts';

export type BenchDeps = Pick<AgentDeps, 'engine' | 'retriever'> & { label: string };

export class BenchState {
  runs = $state.raw<StoredRun[]>([]);
  activeId = $state<string | null>(null);
  /** Seconds left in the active run, from this session's pace; null before the first result. */
  etaSeconds = $state<number | null>(null);
  error = $state<string | null>(null);
  running = $state(false);
  private controller: AbortController | null = null;

  async init(): Promise<void> {
    try {
      this.runs = await listRuns();
    } catch (error) {
      this.error = `stored runs could not be read: ${errorMessage(error)}`;
    }
  }

  get active(): StoredRun | null {
    return this.runs.find((r) => r.id === this.activeId) ?? null;
  }

  async start(questions: BenchQuestion[], settings: BenchSettings, deps: BenchDeps): Promise<void> {
    const run: StoredRun = { id: crypto.randomUUID(), createdAt: Date.now(), engine: deps.label, settings, questions, results: [], status: 'paused' };
    await this.store(run);
    await this.resume(run.id, deps);
  }

  async resume(id: string, deps: BenchDeps): Promise<void> {
    const run = this.runs.find((r) => r.id === id);
    if (!run || this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    this.activeId = id;
    this.error = null;
    this.etaSeconds = null;
    const started = performance.now();
    let finishedHere = 0;
    try {
      const retriever = run.settings.noise > 0 ? failingRetriever(deps.retriever, run.settings.noise) : deps.retriever;
      const config = { policy: run.settings.policy === 'always-search' ? alwaysSearch : noSearch };
      const skip = finishedIds(run.results);
      let current = run;
      for await (const result of runBenchmark(run.questions, { engine: deps.engine, retriever }, config, { signal: controller.signal, skip })) {
        // An engine or index failure is not a score: stop, keep what is done, let the user resume.
        if (result.end === 'error') throw new Error(`question ${result.id} failed: ${failureOf(result)}; finished questions are kept`);
        current = { ...current, results: [...current.results, result] };
        finishedHere++;
        const perQuestion = (performance.now() - started) / finishedHere / 1000;
        this.etaSeconds = perQuestion * (current.questions.length - current.results.length);
        await this.store(current);
      }
      if (!controller.signal.aborted) await this.store({ ...current, status: 'done' });
    } catch (error) {
      if (!controller.signal.aborted) this.error = errorMessage(error);
    } finally {
      this.controller = null;
      this.running = false;
      this.etaSeconds = null;
    }
  }

  pause(): void {
    this.controller?.abort();
  }

  async remove(id: string): Promise<void> {
    if (this.activeId === id) this.pause();
    await deleteRun(id);
    this.runs = this.runs.filter((r) => r.id !== id);
  }

  private async store(run: StoredRun): Promise<void> {
    await saveRun(run);
    const others = this.runs.filter((r) => r.id !== run.id);
    this.runs = [...others, run].sort((a, b) => a.createdAt - b.createdAt);
  }
}
