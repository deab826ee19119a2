/**
 * The loaded model: loads it once the checks a load would fail at once have passed, shows progress with
 * an ETA, and loads it again when the guarded engine reports itself broken. `state` is what the engine
 * form shows; `current` is the engine runs use, null whenever `state` is not ready.
 */
import type { LlmEngine } from '../core/agent/engine.ts';
import type { LoadProgress } from '../core/util/load-progress.ts';
import { DEFAULT_CALL_TIMEOUT_MS, guardEngine } from '../core/agent/engine-guard.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { etaSeconds, type ByteSample } from '../core/util/eta.ts';
import { checkEngineSettings, loadEngine, type EngineSettings } from '../engines/load.ts';
import type { LoadState } from './load-state.ts';
import { blockedOrigin, engineUrls } from './page-policy.ts';
import { saveLastModel } from './engine-form-store.ts';

/** How engines are checked and loaded: the browser's, or a test's fakes. */
export interface EngineLoader {
  /** Throws what a load would fail at once on (a malformed URL, an invalid custom model, a 404, a web page). */
  check(settings: EngineSettings): Promise<void>;
  load(settings: EngineSettings, onProgress: (progress: LoadProgress) => void): Promise<LlmEngine>;
  /** A model host the page's Content-Security-Policy does not allow, so no load could reach it. */
  blockedHost(settings: EngineSettings): string | null;
  /** Keeps the settings of the loaded model (null: none) for the page to load it again on return. */
  remember(settings: EngineSettings | null): void;
}

export const browserEngineLoader: EngineLoader = {
  check: checkEngineSettings,
  load: loadEngine,
  blockedHost: (settings) => blockedOrigin(engineUrls(settings)),
  remember: saveLastModel,
};

export class EngineController {
  state = $state.raw<LoadState>({ status: 'idle' });
  current = $state.raw<LlmEngine | null>(null);
  /** What happened to the engine that the user should know (a refused load, a crash and its recovery). */
  notice = $state<string | null>(null);
  /** A model host the page's policy does not allow yet (the user may allow it and reload). */
  blockedHost = $state<string | null>(null);
  private settings: EngineSettings | null = null;

  /** `beforeSwitch` cancels the runs that use the model, just before it is let go. */
  constructor(
    private readonly loader: EngineLoader,
    private readonly beforeSwitch: () => void,
  ) {}

  async load(settings: EngineSettings): Promise<void> {
    // A new attempt: what the last one said no longer holds.
    this.notice = null;
    // Before the check, which fetches from the host: the page's policy would refuse that too.
    this.blockedHost = this.loader.blockedHost(settings);
    if (this.blockedHost) {
      if (!this.current) this.state = { status: 'idle' };
      return;
    }
    // With a model loaded, it stays usable (ready) while the new one is checked.
    if (!this.current) this.state = { status: 'loading', progress: { text: 'checking the model' } };
    try {
      await this.loader.check(settings);
    } catch (error) {
      if (this.current) this.notice = `Not loaded: ${errorMessage(error)} Still using ${this.current.label}.`;
      else this.state = { status: 'error', message: errorMessage(error) };
      return;
    }
    this.beforeSwitch();
    const previous = this.current && this.settings && { settings: this.settings, label: this.current.label };
    const failure = await this.open(settings);
    if (failure && previous) await this.restore(previous, failure);
  }

  /** A load failed after the working model was let go: load that one again (from the browser's store, as a rule). */
  private async restore(previous: { settings: EngineSettings; label: string }, failure: string): Promise<void> {
    const again = await this.open(previous.settings);
    this.notice = again ? `Not loaded: ${failure} ${previous.label} could not be loaded again either.` : `Not loaded: ${failure} ${previous.label} was loaded again.`;
  }

  /** Frees the model: the runs on it are cancelled, and the page does not load it by itself on return. */
  async unload(): Promise<void> {
    this.beforeSwitch();
    const old = this.current;
    this.current = null;
    this.settings = null;
    this.notice = null;
    this.state = { status: 'idle' };
    this.loader.remember(null);
    await old?.unload().catch(() => undefined);
  }

  /**
   * Loads without touching runs (a recovery must let the failed run end with its own error). Returns
   * why the load failed, or null.
   */
  private async open(settings: EngineSettings): Promise<string | null> {
    // Let go before the new one loads: two models may not fit in memory at once.
    const old = this.current;
    this.current = null;
    await old?.unload().catch(() => undefined);
    this.settings = settings;
    this.state = { status: 'loading', progress: { text: 'starting' } };
    const progress = this.progressReporter();
    try {
      const engine: LlmEngine = guardEngine(await this.loader.load(settings, progress.report), {
        callTimeoutMs: DEFAULT_CALL_TIMEOUT_MS,
        onFatal: (error) => void this.recover(engine, error),
      });
      this.current = engine;
      this.state = { status: 'ready', label: engine.label, fromCache: progress.fromCache() };
      this.loader.remember(settings);
      return null;
    } catch (error) {
      this.settings = null;
      this.state = { status: 'error', message: errorMessage(error) };
      return errorMessage(error);
    }
  }

  /** Progress as the form shows it, with an ETA from the bytes fetched since the first report. */
  private progressReporter(): { report: (progress: LoadProgress) => void; fromCache: () => boolean } {
    let first: ByteSample | null = null;
    let fromCache = false;
    const report = (progress: LoadProgress): void => {
      fromCache ||= progress.fromCache === true;
      const latest = { bytes: progress.loadedBytes ?? 0, ms: performance.now() };
      first ??= progress.loadedBytes === undefined ? null : latest;
      const eta = first && etaSeconds(first, latest, progress.totalBytes);
      this.state = { status: 'loading', progress, ...(eta !== null && { etaSeconds: eta }) };
    };
    return { report, fromCache: () => fromCache };
  }

  /** A lost GPU, an aborted wasm module or a hung call: the run that hit it has failed; load the model again. */
  private async recover(broken: LlmEngine, error: Error): Promise<void> {
    if (this.current !== broken || !this.settings) return;
    this.notice = `The engine stopped (${error.message}). The model was loaded again.`;
    await this.open(this.settings);
  }
}
