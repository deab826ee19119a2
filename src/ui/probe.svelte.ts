/**
 * The probe page's state: the calibration run (src/core/probe/probe-calibration.ts) with this page's engine
 * and index, trained in the browser, kept in IndexedDB after each question (probe-store.ts).
 *
 * `confidence` and `threshold` are what adaptive mode plugs in.
 */
import type { AgentConfig, AgentDeps } from '../core/agent/agent.ts';
import type { CalibrationRow } from '../core/probe/calibration.ts';
import type { BenchQuestion } from '../core/eval/datasets.ts';
import type { LlmEngine } from '../core/agent/engine.ts';
import { errorMessage } from '../core/util/error-message.ts';
import type { ConfidenceFn } from '../core/agent/policy.ts';
import { calibrate, calibrated, DEFAULT_THRESHOLD, scoredRows, trainCalibration, withOutcome, type Calibration } from '../core/probe/probe-calibration.ts';
import { ConfidenceProbe, DEFAULT_LABEL_THRESHOLD } from '../core/probe/probe-model.ts';
import { trainProbe } from '../training/confidence-probe.ts';
import { runResumable } from '../core/eval/resumable-run.ts';
import { deleteCalibration, readCalibration, saveCalibration } from './probe-store.ts';
import { PageRun } from './page-run.svelte.ts';
import type { Session } from './session.svelte.ts';

export type ProbeDeps = AgentDeps & { label: string };

export class ProbeState extends PageRun {
  calibration = $state.raw<Calibration | null>(null);
  training = $state(false);
  /** The probe in use, parsed from the stored JSON; null until trained. */
  probe = $state.raw<ConfidenceProbe | null>(null);

  constructor(private readonly session: Session) {
    super();
    // A new model or index makes a running calibration moot, as it does the other pages' runs.
    session.onCancel(() => this.cancel());
  }

  private loadedEngine(): { engine: LlmEngine; label: string } | null {
    return this.session.benchDeps(this.session.retrievalMode);
  }

  async init(): Promise<void> {
    try {
      const stored = await readCalibration();
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
    return scoredRows(this.calibration?.rows ?? []);
  }

  async start(dataset: string, questions: BenchQuestion[], labelThreshold: number, deps: ProbeDeps, config: AgentConfig): Promise<void> {
    if (this.busy || this.running) return;
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
    if (!calibration || this.busy) return;
    if (deps.label !== calibration.engine) {
      this.error = `this calibration was made with ${calibration.engine}; load that model to resume, or start a new one`;
      return;
    }
    await this.runWith(async (signal, onTimeLeft) => {
      const end = await runResumable({
        questions: calibration.questions,
        done: calibrated(calibration),
        signal,
        resumeHint: 'press Resume to go on',
        runOne: (question, questionSignal) => calibrate(question, deps, config, questionSignal),
        // The latest record, not `calibration`: the threshold may have moved meanwhile.
        store: (outcome) => this.store(withOutcome(this.calibration ?? calibration, outcome)),
        onTimeLeft,
      });
      if (end === 'paused') return;
      if (this.calibration?.rows.length === 0) throw new Error('no question could be scored: the engine returned no log-probabilities for any of them');
      await this.train();
    });
  }

  /** Trains on the rows (again, e.g. after the label threshold changed) and stores the probe. */
  async train(labelThreshold = this.calibration?.labelThreshold ?? DEFAULT_LABEL_THRESHOLD): Promise<void> {
    const calibration = this.calibration;
    if (!calibration || calibration.rows.length === 0) return;
    this.training = true;
    this.error = null;
    try {
      const { rows, probe } = await trainCalibration(calibration.rows, labelThreshold, trainProbe);
      await this.store({ ...(this.calibration ?? calibration), rows, labelThreshold, probe: probe.toJSON() });
      this.probe = probe;
    } catch (error) {
      this.error = `training failed: ${errorMessage(error)}`;
    } finally {
      this.training = false;
    }
  }

  cancel(): void {
    this.stop();
  }

  async clear(): Promise<void> {
    this.cancel();
    await deleteCalibration();
    this.calibration = null;
    this.probe = null;
  }

  private async store(calibration: Calibration): Promise<void> {
    await saveCalibration(calibration);
    this.calibration = calibration;
  }
}
