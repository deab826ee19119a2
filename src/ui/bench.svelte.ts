/**
 * The benchmark page's state: stored runs, the run in progress (with an ETA), pause and resume. The
 * scoring and the resumable loop are the core's; this only feeds them the page's engine and index, with
 * the settings the run was started with, and keeps the results.
 */
import type { AgentDeps } from '../core/agent/agent.ts';
import { runQuestion } from '../core/eval/benchmark.ts';
import type { BenchQuestion } from '../core/eval/datasets.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { policyByName } from '../core/agent/policy.ts';
import { runResumable } from '../core/eval/resumable-run.ts';
import { agentConfig, runRetriever } from '../core/agent/run-settings.ts';
import { deleteRun, listRuns, resumeProblem, saveRun, type BenchSettings, type StoredRun } from './bench-store.ts';
import { PageRun } from './page-run.svelte.ts';

/** The loaded engine and what runs search: `server` is the retrieval server's endpoint, null for the local index. */
export type BenchDeps = Pick<AgentDeps, 'engine' | 'retriever'> & { label: string; server: string | null };

export class BenchState extends PageRun {
  runs = $state.raw<StoredRun[]>([]);
  activeId = $state<string | null>(null);

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

  /** A run on a retrieval server records its endpoint with its settings. */
  async start(questions: BenchQuestion[], settings: BenchSettings, deps: BenchDeps): Promise<void> {
    const searched = deps.server ? { ...settings, retrievalServer: deps.server } : settings;
    const run: StoredRun = { id: crypto.randomUUID(), createdAt: Date.now(), engine: deps.label, settings: searched, questions, results: [], status: 'paused' };
    await this.store(run);
    await this.resume(run.id, deps);
  }

  async resume(id: string, deps: BenchDeps): Promise<void> {
    const run = this.runs.find((r) => r.id === id);
    if (!run || this.busy) return;
    this.activeId = id;
    const problem = resumeProblem(run.settings, deps.server);
    if (problem) return void (this.error = `${problem}.`);
    await this.runWith(async (signal, onTimeLeft) => {
      const { settings } = run;
      const agentDeps = { engine: deps.engine, retriever: runRetriever(deps.retriever, settings) };
      const config = agentConfig(settings, policyByName(settings.policy));
      let current = run;
      const end = await runResumable({
        questions: run.questions,
        done: run.results,
        signal,
        resumeHint: 'press Resume to go on',
        runOne: (question, questionSignal) => runQuestion(question, agentDeps, config, questionSignal),
        store: async (result) => {
          current = { ...current, results: [...current.results, result] };
          await this.store(current);
        },
        onTimeLeft,
      });
      if (end === 'finished') await this.store({ ...current, status: 'done' });
    });
  }

  pause(): void {
    this.stop();
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
