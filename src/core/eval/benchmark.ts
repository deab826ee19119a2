/**
 * The benchmark runner: the agent on each question of a set, scored (String-F1, EM against the closest
 * gold answer) with its cost (searches, tokens, latency and its retrieval / prefill / decode parts).
 * The same code runs in the app's benchmark and probe pages and in the Node CLI; going through a set of
 * questions, pausing and resuming is `resumable-run.ts`'s.
 */
import { runAgent, type AgentConfig, type AgentDeps, type AgentEvent, type EndReason, type RunStats } from '../agent/agent.ts';
import type { BenchQuestion } from './datasets.ts';
import type { ChatMessage } from '../agent/engine.ts';
import { exactMatch, stringF1 } from './metrics.ts';
import { mean, percentile } from './stats.ts';

export interface QuestionResult {
  id: string;
  question: string;
  answers: string[];
  /** The model's answer, or null when the run ended without one. */
  prediction: string | null;
  f1: number;
  em: number;
  end: EndReason;
  /** Whether at least one search came before the answer. */
  grounded: boolean;
  stats: RunStats;
  /** The run's events without the streamed text deltas: the trace a user exports. */
  trace: AgentEvent[];
  transcript: ChatMessage[];
}

/** A question whose engine or index failed: that is no score of the model's, so a run stops there. */
export class QuestionFailedError extends Error {
  constructor(questionId: string, reason: string) {
    super(`question ${questionId} failed: ${reason}`);
    this.name = 'QuestionFailedError';
  }
}

/**
 * One question, scored; null when `signal` stopped it first (a paused run's last question is no result:
 * it runs again on resume). A failed engine or index throws `QuestionFailedError`.
 */
export async function runQuestion(question: BenchQuestion, deps: AgentDeps, config: AgentConfig, signal?: AbortSignal): Promise<QuestionResult | null> {
  if (signal?.aborted) return null;
  const result = await runOne(question, deps, { ...config, ...(signal && { signal }) });
  if (result.end === 'cancelled' && signal?.aborted) return null;
  if (result.end === 'error') throw new QuestionFailedError(question.id, failureOf(result));
  return result;
}

async function runOne(question: BenchQuestion, deps: AgentDeps, config: AgentConfig): Promise<QuestionResult> {
  const trace: AgentEvent[] = [];
  for await (const event of runAgent(question.question, deps, config)) {
    if (event.type !== 'text') trace.push(event);
    if (event.type !== 'end') continue;
    const prediction = event.answer ?? null;
    const answered = trace.find((e) => e.type === 'answer');
    return {
      id: question.id,
      question: question.question,
      answers: question.answers,
      prediction,
      f1: prediction === null ? 0 : stringF1(prediction, question.answers),
      em: prediction === null ? 0 : exactMatch(prediction, question.answers),
      end: event.reason,
      grounded: answered?.type === 'answer' && answered.grounded,
      stats: event.stats,
      trace,
      transcript: event.transcript,
    };
  }
  throw new Error('the agent ended without an end event');
}

/** Why a question ended in error (its engine or index failed), from its trace. */
function failureOf(result: QuestionResult): string {
  const event = result.trace.find((e) => e.type === 'error');
  return event?.type === 'error' ? event.message : 'unknown error';
}

export interface BenchmarkSummary {
  questions: number;
  answered: number;
  /** Means over questions, in 0..1. */
  f1: number;
  em: number;
  searchesPerQuestion: number;
  tokensPerQuestion: number;
  latencyMs: { mean: number; p50: number; p95: number };
  /** Mean time per question in each part of the work. */
  breakdownMs: { retrieval: number; prefill: number; decode: number };
}

export function summarize(results: readonly QuestionResult[]): BenchmarkSummary {
  const of = (pick: (r: QuestionResult) => number) => results.map(pick);
  const latencies = of((r) => r.stats.wallMs);
  return {
    questions: results.length,
    answered: results.filter((r) => r.prediction !== null).length,
    f1: mean(of((r) => r.f1)),
    em: mean(of((r) => r.em)),
    searchesPerQuestion: mean(of((r) => r.stats.searches)),
    tokensPerQuestion: mean(of((r) => r.stats.promptTokens + r.stats.completionTokens)),
    latencyMs: { mean: mean(latencies), p50: percentile(latencies, 50), p95: percentile(latencies, 95) },
    breakdownMs: { retrieval: mean(of((r) => r.stats.retrievalMs)), prefill: mean(of((r) => r.stats.prefillMs)), decode: mean(of((r) => r.stats.decodeMs)) },
  };
}
