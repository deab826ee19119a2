/** The one resumable loop the benchmark and probe pages and `npm run eval` run their questions through. */
import { describe, expect, it } from 'vitest';
import { QuestionFailedError } from '../../src/core/eval/benchmark.ts';
import type { BenchQuestion } from '../../src/core/eval/datasets.ts';
import { runResumable, type ResumableRun } from '../../src/core/eval/resumable-run.ts';

const QUESTIONS: BenchQuestion[] = ['q1', 'q2', 'q3', 'q4'].map((id) => ({ id, question: `question ${id}?`, answers: ['x'] }));

/** A run whose questions answer with their id, logging each step; `behave` overrides one question. */
function loggedRun({ behave, ...overrides }: Partial<ResumableRun<string>> & { behave?: (id: string) => Promise<string | null> } = {}) {
  const log: string[] = [];
  const stored: string[] = [];
  const run: ResumableRun<string> = {
    questions: QUESTIONS,
    done: [],
    signal: new AbortController().signal,
    resumeHint: 'press Resume to go on',
    runOne: async (question) => {
      log.push(`run ${question.id}`);
      return behave ? behave(question.id) : question.id;
    },
    store: async (result) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      log.push(`stored ${result}`);
      stored.push(result);
    },
    ...overrides,
  };
  return { run, log, stored };
}

describe('a resumable run', () => {
  it('stores each question before the next one starts, and a resumed run skips what was stored', async () => {
    const first = loggedRun();
    expect(await runResumable(first.run)).toBe('finished');
    expect(first.log).toEqual(['run q1', 'stored q1', 'run q2', 'stored q2', 'run q3', 'stored q3', 'run q4', 'stored q4']);

    const resumed = loggedRun({ done: [{ id: 'q1' }, { id: 'q3' }, { id: 'not in this set' }] });
    expect(await runResumable(resumed.run)).toBe('finished');
    expect(resumed.stored).toEqual(['q2', 'q4']);
  });

  it('pauses without storing the question cut short, which runs again on resume', async () => {
    const pause = new AbortController();
    const paused = loggedRun({
      signal: pause.signal,
      behave: async (id) => {
        if (id !== 'q2') return id;
        pause.abort();
        return null;
      },
    });
    expect(await runResumable(paused.run)).toBe('paused');
    expect(paused.stored).toEqual(['q1']);
    expect(paused.log).not.toContain('run q3');

    const resumed = loggedRun({ done: paused.stored.map((id) => ({ id })) });
    await runResumable(resumed.run);
    expect(resumed.stored).toEqual(['q2', 'q3', 'q4']);
  });

  it('treats an error the pause caused as the pause', async () => {
    const pause = new AbortController();
    const run = loggedRun({
      signal: pause.signal,
      behave: async () => {
        pause.abort();
        throw new Error('the request was cut off');
      },
    });
    expect(await runResumable(run.run)).toBe('paused');
    expect(run.stored).toEqual([]);
  });

  it('stops at a question whose engine failed, keeping the finished ones and saying how to go on', async () => {
    const run = loggedRun({
      done: [{ id: 'q1' }],
      behave: async (id) => {
        if (id === 'q3') throw new QuestionFailedError(id, 'the GPU was lost');
        return id;
      },
    });
    await expect(runResumable(run.run)).rejects.toThrow('question q3 failed: the GPU was lost; the 2 finished questions are kept, press Resume to go on');
    expect(run.stored).toEqual(['q2']);
    expect(run.log).not.toContain('run q4');
  });

  it('passes any other error on as it is, and a store that fails stops the run', async () => {
    const unsupported = loggedRun({ behave: async () => Promise.reject(new Error('this engine reports no log-probabilities')) });
    await expect(runResumable(unsupported.run)).rejects.toThrow(/^this engine reports no log-probabilities$/);
    const full = loggedRun({ store: () => Promise.reject(new Error('the disk is full')) });
    await expect(runResumable(full.run)).rejects.toThrow('the disk is full');
    expect(full.log).toEqual(['run q1']);
  });

  it("says the time left at this session's pace after each question, not counting what was done before", async () => {
    let clock = 0;
    const left: number[] = [];
    const run = loggedRun({
      done: [{ id: 'q1' }],
      now: () => clock,
      behave: async (id) => {
        clock += 2_000;
        return id;
      },
      onTimeLeft: (seconds) => left.push(seconds),
    });
    await runResumable(run.run);
    expect(left).toEqual([4, 2, 0]);
  });
});
