/**
 * The probe page's state. A calibration run gives each question a self-answer attempt (the probe's
 * features, and how right the answer was) and an always-search run (how right searching was, and at what
 * cost); then the probe is trained in the browser. Everything is kept in IndexedDB after each question,
 * so a reload keeps the rows, the trained probe and the threshold; an interrupted run resumes.
 *
 * `confidence` and `threshold` are what adaptive mode plugs in.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { AgentConfig, AgentDeps, EndReason } from '../core/agent.ts';
import { failureOf, runBenchmark } from '../core/benchmark.ts';
import type { CalibrationRow } from '../core/calibration.ts';
import type { BenchQuestion } from '../core/datasets.ts';
import type { LlmEngine } from '../core/engine.ts';
import { errorMessage } from '../core/error-message.ts';
import { exactMatch, stringF1 } from '../core/metrics.ts';
import type { ConfidenceFn } from '../core/policy.ts';
import { MissingLogprobsError, probeFeatures, type ProbeFeatures } from '../core/probe-features.ts';
import { ConfidenceProbe, crossValidatedConfidences, DEFAULT_LABEL_THRESHOLD, labelOf, type ProbeData } from '../core/probe-model.ts';
import type { Session } from './session.svelte.ts';

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

export interface Calibration {
  createdAt: number;
  /** The engine and model the features came from: a probe only fits the model it was trained on. */
  engine: string;
  dataset: string;
  questions: BenchQuestion[];
  rows: ProbeRow[];
  /** Questions the engine returned no log-probabilities for: they cannot be scored, and are not rerun. */
  skipped?: { id: string; reason: string }[];
  /** A self-answer counts as right at String-F1 ≥ this. */
  labelThreshold: number;
  /** The trained probe as plain JSON, read back through its schema. */
  probe: ProbeData | null;
  /** Adaptive mode self-answers at confidence ≥ this. */
  threshold: number;
}

interface ProbeDb extends DBSchema {
  calibration: { key: string; value: Calibration };
}

const KEY = 'current';
let db: Promise<IDBPDatabase<ProbeDb>> | null = null;

function open(): Promise<IDBPDatabase<ProbeDb>> {
  db ??= openDB<ProbeDb>('sdg-probe', 1, { upgrade: (database) => void database.createObjectStore('calibration') });
  return db;
}

export const DEFAULT_THRESHOLD = 0.8;
/** Folds of the cross-validation that gives each question its out-of-sample confidence. */
const FOLDS = 5;

export type ProbeDeps = AgentDeps & { label: string };

export class ProbeState {
  calibration = $state.raw<Calibration | null>(null);
  running = $state(false);
  training = $state(false);
  etaSeconds = $state<number | null>(null);
  error = $state<string | null>(null);
  /** The probe in use, parsed from the stored JSON; null until trained. */
  probe = $state.raw<ConfidenceProbe | null>(null);
  private controller: AbortController | null = null;

  constructor(private readonly session: Session) {
    // A new model or index makes a running calibration moot, as it does the other pages' runs.
    session.onCancel(() => this.cancel());
  }

  private loadedEngine(): { engine: LlmEngine; label: string } | null {
    return this.session.benchDeps(this.session.retrievalMode);
  }

  async init(): Promise<void> {
    try {
      const stored = (await (await open()).get('calibration', KEY)) ?? null;
      this.calibration = stored;
      this.probe = stored?.probe ? ConfidenceProbe.fromJSON(stored.probe) : null;
    } catch (error) {
      this.error = `the stored probe could not be read (${errorMessage(error)}): train it again or run a new calibration`;
    }
  }

  get threshold(): number {
    return this.calibration?.threshold ?? DEFAULT_THRESHOLD;
  }

  set threshold(value: number) {
    if (!this.calibration || !(value >= 0 && value <= 1)) return;
    void this.store({ ...this.calibration, threshold: value });
  }

  /** Why `confidence` is null, in words for the page; null when the probe can be used. */
  get unavailable(): string | null {
    if (!this.probe || !this.calibration) return 'no probe trained yet';
    const loaded = this.loadedEngine();
    if (!loaded) return 'load the model and the index first';
    if (loaded.label !== this.calibration.engine) return `the probe was trained for ${this.calibration.engine}, not ${loaded.label}: run the calibration with this model`;
    return null;
  }

  /** The adaptive policy's confidence function, for the loaded model; null while unavailable. */
  get confidence(): ConfidenceFn | null {
    const loaded = this.loadedEngine();
    return this.unavailable === null && this.probe && loaded ? this.probe.confidenceFn(loaded.engine) : null;
  }

  /** Rows with a confidence, in the shape the calibration charts and table read. */
  get scored(): CalibrationRow[] {
    return (this.calibration?.rows ?? []).flatMap((r) =>
      r.confidence === undefined ? [] : [{ confidence: r.confidence, selfF1: r.selfF1, searchF1: r.searchF1, searches: r.searches, selfEm: r.selfEm, searchEm: r.searchEm }],
    );
  }

  async start(dataset: string, questions: BenchQuestion[], labelThreshold: number, deps: ProbeDeps, config: AgentConfig): Promise<void> {
    if (this.controller || this.running) return;
    // Running before the first await, so a second click cannot start a second run.
    this.running = true;
    const threshold = this.calibration?.threshold ?? DEFAULT_THRESHOLD;
    try {
      this.probe = null;
      await this.store({ createdAt: Date.now(), engine: deps.label, dataset, questions, rows: [], labelThreshold, probe: null, threshold });
    } catch (error) {
      this.error = `the calibration could not be stored: ${errorMessage(error)}`;
      return;
    } finally {
      this.running = false;
    }
    await this.resume(deps, config);
  }

  /** Runs the questions not done yet, then trains. */
  async resume(deps: ProbeDeps, config: AgentConfig): Promise<void> {
    const calibration = this.calibration;
    if (!calibration || this.controller) return;
    if (deps.label !== calibration.engine) {
      this.error = `this calibration was made with ${calibration.engine}; load that model to resume, or start a new one`;
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    this.error = null;
    this.etaSeconds = null;
    try {
      await this.runQuestions(calibration, deps, config, controller.signal);
      if (controller.signal.aborted) return;
      if (this.calibration?.rows.length === 0) throw new Error('no question could be scored: the engine returned no log-probabilities for any of them');
      await this.train();
    } catch (error) {
      if (!controller.signal.aborted) this.error = errorMessage(error);
    } finally {
      this.controller = null;
      this.running = false;
      this.etaSeconds = null;
    }
  }

  private async runQuestions(start: Calibration, deps: ProbeDeps, config: AgentConfig, signal: AbortSignal): Promise<void> {
    const done = [...start.rows, ...(start.skipped ?? [])].map((r) => r.id);
    const todo = start.questions.filter((q) => !done.includes(q.id));
    const started = performance.now();
    for (const [i, question] of todo.entries()) {
      const row = await calibrate(question, deps, config, signal);
      if (!row) return; // cancelled mid-question: it runs again on resume
      // The latest record, not `start`: the threshold may have moved meanwhile.
      const latest = this.calibration ?? start;
      await this.store('skipped' in row ? { ...latest, skipped: [...(latest.skipped ?? []), row.skipped] } : { ...latest, rows: [...latest.rows, row] });
      this.etaSeconds = ((performance.now() - started) / (i + 1) / 1000) * (todo.length - i - 1);
    }
  }

  /** Trains on the rows (again, e.g. after the label threshold changed) and stores the probe. */
  async train(labelThreshold = this.calibration?.labelThreshold ?? DEFAULT_LABEL_THRESHOLD): Promise<void> {
    const calibration = this.calibration;
    if (!calibration || calibration.rows.length === 0) return;
    this.training = true;
    this.error = null;
    try {
      const examples = calibration.rows.map((r) => ({ features: r.features, label: labelOf(r.selfF1, labelThreshold) }));
      const confidences = await crossValidatedConfidences(examples, { folds: FOLDS });
      const probe = await ConfidenceProbe.train(examples, { labelThreshold });
      const rows = calibration.rows.map((r, i) => ({ ...r, confidence: confidences[i] as number }));
      await this.store({ ...(this.calibration ?? calibration), rows, labelThreshold, probe: probe.toJSON() });
      this.probe = probe;
    } catch (error) {
      this.error = `training failed: ${errorMessage(error)}`;
    } finally {
      this.training = false;
    }
  }

  cancel(): void {
    this.controller?.abort();
  }

  async clear(): Promise<void> {
    this.cancel();
    await (await open()).delete('calibration', KEY);
    this.calibration = null;
    this.probe = null;
  }

  private async store(calibration: Calibration): Promise<void> {
    // Stored as plain data: Svelte state proxies cannot be structured-cloned.
    await (await open()).put('calibration', JSON.parse(JSON.stringify(calibration)) as Calibration, KEY);
    this.calibration = calibration;
  }
}

/** One question both ways; null when cancelled before it finished. */
async function calibrate(question: BenchQuestion, deps: ProbeDeps, config: AgentConfig, signal: AbortSignal): Promise<ProbeRow | { skipped: { id: string; reason: string } } | null> {
  let attempt;
  try {
    attempt = await probeFeatures(deps.engine, question.question, { signal });
  } catch (error) {
    if (signal.aborted) return null;
    if (error instanceof MissingLogprobsError) return { skipped: { id: question.id, reason: error.message } };
    throw error;
  }
  const searched = await firstResult(runBenchmark([question], deps, config, { signal }));
  if (!searched) return null;
  // An engine or index failure is not a score: stop, keep what is done, let the user resume.
  if (searched.end === 'error') throw new Error(`question ${question.id} failed: ${failureOf(searched)}; finished questions are kept`);
  return {
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
}

async function firstResult<T>(results: AsyncGenerator<T>): Promise<T | null> {
  for await (const result of results) return result;
  return null;
}
