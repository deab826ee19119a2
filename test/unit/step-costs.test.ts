import { describe, expect, it } from 'vitest';
import type { AgentEvent, RunStats } from '../../src/core/agent/agent.ts';
import { stepCosts, timeSplit } from '../../src/core/agent/step-costs.ts';

const stats = (s: Partial<RunStats>): AgentEvent => ({
  type: 'stats',
  stats: { turns: 0, searches: 0, promptTokens: 0, completionTokens: 0, retrievalMs: 0, prefillMs: 0, decodeMs: 0, wallMs: 0, ...s },
});

describe('step costs', () => {
  it('turns cumulative stats into what each step cost', () => {
    const events: AgentEvent[] = [
      { type: 'turn', turn: 1 },
      stats({ turns: 1, searches: 1, promptTokens: 400, completionTokens: 40, retrievalMs: 12, prefillMs: 200, decodeMs: 400, wallMs: 700 }),
      { type: 'turn', turn: 2 },
      stats({ turns: 2, searches: 1, promptTokens: 1000, completionTokens: 60, retrievalMs: 12, prefillMs: 500, decodeMs: 600, wallMs: 1500 }),
    ];
    expect(stepCosts(events)).toEqual([
      { turn: 1, retrievalMs: 12, prefillMs: 200, decodeMs: 400, startMs: 0, promptTokens: 400, completionTokens: 40, prefillTokensPerSecond: 2000, decodeTokensPerSecond: 100, searches: 1, totalTokens: 440, wallMs: 700 },
      { turn: 2, retrievalMs: 0, prefillMs: 300, decodeMs: 200, startMs: 700, promptTokens: 600, completionTokens: 20, prefillTokensPerSecond: 2000, decodeTokensPerSecond: 100, searches: 1, totalTokens: 1060, wallMs: 1500 },
    ]);
  });

  it('counts the step a cancel cut short, and no empty step after a finished one', () => {
    const done = stats({ turns: 1, searches: 1, promptTokens: 400, completionTokens: 40, prefillMs: 200, decodeMs: 400, wallMs: 700 });
    const end = (s: Partial<RunStats>): AgentEvent => ({ type: 'end', reason: 'cancelled', transcript: [], stats: (stats(s) as { stats: RunStats }).stats });
    const cut = { turns: 2, searches: 1, promptTokens: 900, completionTokens: 55, prefillMs: 450, decodeMs: 550, wallMs: 1300 };
    const rows = stepCosts([done, end(cut)]);
    expect(rows.map((r) => [r.turn, r.startMs, r.prefillMs, r.decodeMs, r.completionTokens])).toEqual([
      [1, 0, 200, 400, 40],
      [2, 700, 250, 150, 15],
    ]);
    // An answered run's end comes just after its last step's stats: it adds no step.
    expect(stepCosts([done, end({ turns: 1, searches: 1, promptTokens: 400, completionTokens: 40, prefillMs: 200, decodeMs: 400, wallMs: 704 })])).toHaveLength(1);
  });

  it('gives no rate where the engine reported no timing', () => {
    const [row] = stepCosts([stats({ turns: 1, promptTokens: 10, completionTokens: 5 })]);
    expect(row?.prefillTokensPerSecond).toBeNull();
    expect(row?.decodeTokensPerSecond).toBeNull();
  });

  it('splits wall time into the model, retrieval and the rest', () => {
    const stats = { turns: 2, searches: 1, promptTokens: 0, completionTokens: 0, retrievalMs: 30, prefillMs: 400, decodeMs: 1500, wallMs: 2000 };
    expect(timeSplit(stats)).toEqual({ modelMs: 1900, retrievalMs: 30, otherMs: 70, wallMs: 2000 });
    // Engine timings that overshoot the wall clock (rounding, overlap) never make the rest negative.
    expect(timeSplit({ ...stats, decodeMs: 1700 }).otherMs).toBe(0);
  });
});
