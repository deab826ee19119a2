/**
 * One agent run as the page shows it: its events, the text streaming in the current step, and how it
 * ended. The Ask page has one; the Compare page one per policy.
 */
import { runAgent, type AgentConfig, type AgentDeps, type AgentEvent, type RunStats } from '../core/agent/agent.ts';

export type EndEvent = Extract<AgentEvent, { type: 'end' }>;

export class RunView {
  /** The run's events, without the text deltas (those only feed `liveText`). */
  events = $state.raw<AgentEvent[]>([]);
  /** What the model is writing in the current step, as it streams. */
  liveText = $state('');
  running = $state(false);
  end = $state.raw<EndEvent | null>(null);
  stats = $state.raw<RunStats | null>(null);
  private controller: AbortController | null = null;

  /** Runs to the end (or until cancelled); a run already going in this view is cancelled first. */
  async run(question: string, deps: AgentDeps, config: Omit<AgentConfig, 'signal'>): Promise<void> {
    this.cancel();
    const controller = new AbortController();
    this.controller = controller;
    this.reset();
    this.running = true;
    try {
      for await (const event of runAgent(question, deps, { ...config, signal: controller.signal })) {
        if (this.controller !== controller) return;
        this.record(event);
      }
    } finally {
      if (this.controller === controller) {
        this.running = false;
        this.controller = null;
      }
    }
  }

  cancel(): void {
    this.controller?.abort();
  }

  reset(): void {
    this.events = [];
    this.liveText = '';
    this.end = null;
    this.stats = null;
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
