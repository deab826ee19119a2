/**
 * A run over a set of questions that outlives a pause, a reload or a kill: each finished question is
 * stored before the next one starts, so at most the running one is lost, and a resumed run skips what
 * was stored. A question whose engine or index failed is no score: the run stops there, keeping what is
 * done. The benchmark and probe pages and `npm run eval` store in different places; the loop is this one.
 */
import { QuestionFailedError } from './benchmark.ts';
import type { BenchQuestion } from './datasets.ts';

export interface ResumableRun<R> {
  questions: readonly BenchQuestion[];
  /** What was stored before (a resumed run): these questions are not run again. */
  done: readonly { id: string }[];
  signal: AbortSignal;
  /** How the user goes on after a failure, for its message: "press Resume". */
  resumeHint: string;
  /** One question; null when `signal` stopped it first (it runs again on resume). */
  runOne(question: BenchQuestion, signal: AbortSignal): Promise<R | null>;
  store(result: R): Promise<void>;
  /** After each stored question: seconds left at this session's pace. */
  onTimeLeft?(seconds: number): void;
  /** Milliseconds; a test's clock. */
  now?(): number;
}

export type RunEnd = 'finished' | 'paused';

export async function runResumable<R>(run: ResumableRun<R>): Promise<RunEnd> {
  const done = new Set(run.done.map((d) => d.id));
  const todo = run.questions.filter((q) => !done.has(q.id));
  const now = run.now ?? (() => performance.now());
  const started = now();
  for (const [i, question] of todo.entries()) {
    const result = await runOne(run, question, run.questions.length - todo.length + i);
    if (result === null) return 'paused';
    await run.store(result);
    run.onTimeLeft?.(((now() - started) / (i + 1) / 1000) * (todo.length - i - 1));
  }
  return 'finished';
}

/** Null when paused: an error the pause caused (a request cut off) is the pause, not a failure. */
async function runOne<R>(run: ResumableRun<R>, question: BenchQuestion, kept: number): Promise<R | null> {
  if (run.signal.aborted) return null;
  try {
    return await run.runOne(question, run.signal);
  } catch (error) {
    if (run.signal.aborted) return null;
    if (error instanceof QuestionFailedError) throw new Error(`${error.message}; the ${kept} finished questions are kept, ${run.resumeHint}`, { cause: error });
    throw error;
  }
}
