/**
 * A calibration run for the confidence probe: each question gets a self-answer attempt (the probe's
 * features, and how right the answer was) and an always-search run (how right searching was, and at
 * what cost); then the probe is trained on the rows. Training is passed in (`ProbeTrainer`), so this
 * module needs no TensorFlow.js and a test can train with anything.
 */
import type { AgentConfig, AgentDeps, EndReason } from '../agent/agent.ts';
import { runQuestion } from '../eval/benchmark.ts';
import type { CalibrationRow } from './calibration.ts';
import type { BenchQuestion } from '../eval/datasets.ts';
import { exactMatch, stringF1 } from '../eval/metrics.ts';
import { MissingLogprobsError, probeFeatures, type ProbeFeatures } from './probe-features.ts';
import { labelOf, type ConfidenceProbe, type ProbeData, type ProbeExample } from './probe-model.ts';

/** One calibration question, both ways. */
export interface ProbeRow {
  id: string;
  question: string;
  answers: string[];
  selfAnswer: string;
  selfF1: number;
  selfEm: number;
  features: ProbeFeatures;
  searchAnswer: string | null;
  searchF1: number;
  searchEm: number;
  searches: number;
  searchEnd: EndReason;
  /** From a probe that did not see this question (cross-validation); set by training. */
  confidence?: number;
}

/** A question the engine returned no log-probabilities for: it cannot be scored, and is not rerun. */
export interface SkippedQuestion {
  id: string;
  reason: string;
}

export interface Calibration {
  createdAt: number;
  /** The engine and model the features came from: a probe only fits the model it was trained on. */
  engine: string;
  dataset: string;
  questions: BenchQuestion[];
  rows: ProbeRow[];
  skipped?: SkippedQuestion[];
  /** A self-answer counts as right at String-F1 ≥ this. */
  labelThreshold: number;
  /** The trained probe as plain JSON, read back through its schema. */
  probe: ProbeData | null;
  /** Adaptive mode self-answers at confidence ≥ this. */
  threshold: number;
}

/** Adaptive mode's threshold until the user moves it. */
export const DEFAULT_THRESHOLD = 0.8;

export type CalibrationOutcome = { row: ProbeRow } | { skipped: SkippedQuestion };

/** One question both ways; null when `signal` stopped it before it finished. */
export async function calibrate(question: BenchQuestion, deps: AgentDeps, config: AgentConfig, signal: AbortSignal): Promise<CalibrationOutcome | null> {
  let attempt;
  try {
    attempt = await probeFeatures(deps.engine, question.question, { signal });
  } catch (error) {
    if (signal.aborted) return null;
    if (error instanceof MissingLogprobsError) return { skipped: { id: question.id, reason: error.message } };
    throw error;
  }
  const searched = await runQuestion(question, deps, config, signal);
  if (!searched) return null;
  const row: ProbeRow = {
    id: question.id,
    question: question.question,
    answers: question.answers,
    selfAnswer: attempt.answer,
    selfF1: attempt.answer ? stringF1(attempt.answer, question.answers) : 0,
    selfEm: attempt.answer ? exactMatch(attempt.answer, question.answers) : 0,
    features: attempt.features,
    searchAnswer: searched.prediction,
    searchF1: searched.f1,
    searchEm: searched.em,
    searches: searched.stats.searches,
    searchEnd: searched.end,
  };
  return { row };
}

/** The calibration with one more question done. */
export function withOutcome(calibration: Calibration, outcome: CalibrationOutcome): Calibration {
  if ('row' in outcome) return { ...calibration, rows: [...calibration.rows, outcome.row] };
  return { ...calibration, skipped: [...(calibration.skipped ?? []), outcome.skipped] };
}

/** The questions a resumed calibration does not run again. */
export function calibrated(calibration: Calibration): { id: string }[] {
  return [...calibration.rows, ...(calibration.skipped ?? [])];
}

/** Each example's out-of-sample confidence, and the probe trained on all of them. */
export type ProbeTrainer = (examples: readonly ProbeExample[], labelThreshold: number) => Promise<{ confidences: number[]; probe: ConfidenceProbe }>;

/** Trains on the rows, self-answers labelled right at String-F1 ≥ `labelThreshold`; each row gets its confidence. */
export async function trainCalibration(rows: readonly ProbeRow[], labelThreshold: number, train: ProbeTrainer): Promise<{ rows: ProbeRow[]; probe: ConfidenceProbe }> {
  const examples = rows.map((r) => ({ features: r.features, label: labelOf(r.selfF1, labelThreshold) }));
  const { confidences, probe } = await train(examples, labelThreshold);
  return { rows: rows.map((r, i) => ({ ...r, confidence: confidences[i] as number })), probe };
}

/** Rows with a confidence, in the shape the calibration charts and table read. */
export function scoredRows(rows: readonly ProbeRow[]): CalibrationRow[] {
  return rows.flatMap((r) => (r.confidence === undefined ? [] : [{ confidence: r.confidence, selfF1: r.selfF1, searchF1: r.searchF1, searches: r.searches, selfEm: r.selfEm, searchEm: r.searchEm }]));
}
