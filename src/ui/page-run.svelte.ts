/**
 * What a page's long run shares (Benchmark, Probe): whether it is running, the error that stopped it,
 * the time left, and a stop. The pages' states extend it.
 */
import { errorMessage } from '../core/util/error-message.ts';
import { timeLeft } from '../core/util/eta.ts';

export type RunWork = (signal: AbortSignal, onTimeLeft: (seconds: number) => void) => Promise<void>;

export class PageRun {
  running = $state(false);
  error = $state<string | null>(null);
  /** Seconds left in the run, from this session's pace; null before the first result. */
  etaSeconds = $state<number | null>(null);
  private controller: AbortController | null = null;

  /** The time left in words, as the model download says it; null before the first result. */
  get timeLeft(): string | null {
    return this.etaSeconds === null ? null : timeLeft(this.etaSeconds);
  }

  /** A run is under way (set before its first await, so a second click starts nothing). */
  protected get busy(): boolean {
    return this.controller !== null;
  }

  /** Runs `work`; an error it throws is shown unless the run was stopped. */
  protected async runWith(work: RunWork): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    this.error = null;
    this.etaSeconds = null;
    try {
      await work(controller.signal, (seconds) => (this.etaSeconds = seconds));
    } catch (error) {
      if (!controller.signal.aborted) this.error = errorMessage(error);
    } finally {
      this.controller = null;
      this.running = false;
      this.etaSeconds = null;
    }
  }

  protected stop(): void {
    this.controller?.abort();
  }
}
