/** A progress bar with ETA on a terminal; on CI logs (no TTY) a line every few seconds instead. */
import { Presets, SingleBar } from 'cli-progress';

export interface Progress {
  start(phase: string, total: number): void;
  /** `note`: what else is moving, shown after the ETA (e.g. the embedding rate). */
  update(done: number, note?: string): void;
  stop(): void;
}

/**
 * How fast passages are being embedded, for the corpus's bar: the embedding runs inside the read, so the
 * bar's ETA already counts it, and this says whether the embedder is what it waits on.
 */
export class EmbeddingRate {
  private first: { passages: number; ms: number } | null = null;
  private latest = { passages: 0, ms: 0 };

  readonly update = (passages: number): void => {
    this.latest = { passages, ms: performance.now() };
    this.first ??= this.latest;
  };

  /** ` · 12,288 embedded, 412/s`, or nothing before a second sample. */
  note(): string {
    if (!this.first) return '';
    const seconds = (this.latest.ms - this.first.ms) / 1000;
    const rate = seconds > 0.5 ? `, ${Math.round((this.latest.passages - this.first.passages) / seconds)}/s` : '';
    return ` · ${this.latest.passages.toLocaleString('en-US')} embedded${rate}`;
  }
}

const LOG_EVERY_MS = 5_000;

/** For a phase whose progress another bar already shows. */
export const silentProgress: Progress = { start: () => {}, update: () => {}, stop: () => {} };

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? barProgress(stream) : logProgress(stream);
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  const bar = new SingleBar({ stream, format: '{phase} [{bar}] {value}/{total} · {percentage}% · ETA {eta_formatted}{note}', etaBuffer: 50 }, Presets.shades_classic);
  return {
    start: (phase, total) => bar.start(total, 0, { phase, note: '' }),
    update: (done, note = '') => bar.update(done, { note }),
    stop: () => bar.stop(),
  };
}

function logProgress(stream: NodeJS.WriteStream): Progress {
  let phase = '';
  let total = 0;
  let started = 0;
  let logged = 0;
  return {
    start(name, count) {
      [phase, total, started, logged] = [name, count, performance.now(), performance.now()];
      stream.write(`${phase}: ${total} to do\n`);
    },
    update(done, note = '') {
      const now = performance.now();
      if (now - logged < LOG_EVERY_MS || done === 0) return;
      logged = now;
      const eta = ((now - started) / done) * (total - done);
      stream.write(`${phase}: ${done}/${total} (${Math.round((100 * done) / total)}%), ETA ${Math.ceil(eta / 1000)} s${note}\n`);
    },
    stop: () => stream.write(`${phase}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`),
  };
}
