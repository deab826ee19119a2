/**
 * What each step of a run cost and where it sits in the run's time, from the cumulative stats the agent
 * reports after every step (and at its end). Rates are null where a step did no such work or the engine
 * gave no timing.
 */
import type { AgentEvent, RunStats } from './agent.ts';

export interface StepCost {
  turn: number;
  retrievalMs: number;
  prefillMs: number;
  decodeMs: number;
  /** The run's wall time when the step began and when it ended: where it sits on a time axis. */
  startMs: number;
  promptTokens: number;
  completionTokens: number;
  prefillTokensPerSecond: number | null;
  decodeTokensPerSecond: number | null;
  /** Running totals at the end of the step. */
  searches: number;
  totalTokens: number;
  wallMs: number;
}

const ZERO: RunStats = { turns: 0, searches: 0, promptTokens: 0, completionTokens: 0, retrievalMs: 0, prefillMs: 0, decodeMs: 0, wallMs: 0 };

export function stepCosts(events: readonly AgentEvent[]): StepCost[] {
  const rows: StepCost[] = [];
  let previous = ZERO;
  for (const event of events) {
    // A run cut short (cancelled, timed out) ends inside a step: its end's stats hold that step's work.
    if (event.type === 'end' && !didWork(previous, event.stats)) continue;
    if (event.type !== 'stats' && event.type !== 'end') continue;
    rows.push(costBetween(previous, event.stats));
    previous = event.stats;
  }
  return rows;
}

function didWork(before: RunStats, after: RunStats): boolean {
  return (
    after.promptTokens + after.completionTokens > before.promptTokens + before.completionTokens ||
    after.prefillMs + after.decodeMs + after.retrievalMs > before.prefillMs + before.decodeMs + before.retrievalMs
  );
}

function costBetween(before: RunStats, after: RunStats): StepCost {
  const promptTokens = after.promptTokens - before.promptTokens;
  const completionTokens = after.completionTokens - before.completionTokens;
  const prefillMs = after.prefillMs - before.prefillMs;
  const decodeMs = after.decodeMs - before.decodeMs;
  return {
    turn: after.turns,
    retrievalMs: after.retrievalMs - before.retrievalMs,
    prefillMs,
    decodeMs,
    startMs: before.wallMs,
    promptTokens,
    completionTokens,
    prefillTokensPerSecond: rate(promptTokens, prefillMs),
    decodeTokensPerSecond: rate(completionTokens, decodeMs),
    searches: after.searches,
    totalTokens: after.promptTokens + after.completionTokens,
    wallMs: after.wallMs,
  };
}

function rate(tokens: number, ms: number): number | null {
  return tokens > 0 && ms > 0 ? (tokens * 1000) / ms : null;
}

export interface TimeSplit {
  /** Prefill + decode, as the engine timed them. */
  modelMs: number;
  retrievalMs: number;
  /** Everything else in the run's wall time: the agent loop, messages to workers, rendering. */
  otherMs: number;
  wallMs: number;
}

/** Where a run's wall time went; `otherMs` is what the agent and the page cost outside the model. */
export function timeSplit(stats: RunStats): TimeSplit {
  const modelMs = stats.prefillMs + stats.decodeMs;
  return { modelMs, retrievalMs: stats.retrievalMs, otherMs: Math.max(0, stats.wallMs - modelMs - stats.retrievalMs), wallMs: stats.wallMs };
}
