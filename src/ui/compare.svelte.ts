/**
 * One question, several policies, side by side. With one GPU the runs cannot overlap: they go one after
 * the other in a fixed order, and each column says whether it waits, runs or is done.
 */
import type { AgentDeps } from '../core/agent/agent.ts';
import type { Policy, PolicyName } from '../core/agent/policy.ts';
import type { RunSettings } from '../core/agent/run-settings.ts';
import { agentConfig } from '../core/agent/run-settings.ts';
import { RunView } from './run.svelte.ts';

export type ColumnStatus = 'idle' | 'waiting' | 'running' | 'done' | 'cancelled';

export class CompareColumn {
  status = $state<ColumnStatus>('idle');
  readonly view = new RunView();
  constructor(readonly policy: PolicyName) {}
}

export class CompareState {
  readonly columns = [new CompareColumn('always-search'), new CompareColumn('adaptive'), new CompareColumn('no-search')];
  running = $state(false);
  private generation = 0;

  column(policy: PolicyName): CompareColumn {
    return this.columns.find((c) => c.policy === policy) as CompareColumn;
  }

  /** Runs the given policies in order on one question; a new call cancels the one before. */
  async run(question: string, deps: AgentDeps, settings: RunSettings, policies: Policy[]): Promise<void> {
    this.cancel();
    const generation = ++this.generation;
    const chosen = policies.map((policy) => ({ policy, column: this.column(policy.name) }));
    for (const column of this.columns) {
      column.view.reset();
      column.status = chosen.some((c) => c.column === column) ? 'waiting' : 'idle';
    }
    this.running = true;
    try {
      for (const { policy, column } of chosen) {
        if (generation !== this.generation) return;
        column.status = 'running';
        await column.view.run(question, deps, agentConfig(settings, policy));
        column.status = column.view.end?.reason === 'cancelled' ? 'cancelled' : 'done';
      }
    } finally {
      if (generation === this.generation) this.running = false;
    }
  }

  cancel(): void {
    this.generation++;
    this.running = false;
    for (const column of this.columns) {
      column.view.cancel();
      if (column.status === 'waiting' || column.status === 'running') column.status = 'cancelled';
    }
  }
}
