/** A progress bar with ETA on a terminal; on CI logs (no TTY) a line every few seconds instead. */
import { Presets, SingleBar } from 'cli-progress';

export interface Progress {
  start(phase: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

const LOG_EVERY_MS = 5_000;

/** For a phase whose progress another bar already shows. */
export const silentProgress: Progress = { start: () => {}, update: () => {}, stop: () => {} };

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? barProgress(stream) : logProgress(stream);
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  const bar = new SingleBar({ stream, format: '{phase} [{bar}] {value}/{total} · {percentage}% · ETA {eta_formatted}', etaBuffer: 50 }, Presets.shades_classic);
  return {
    start: (phase, total) => bar.start(total, 0, { phase }),
    update: (done) => bar.update(done),
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
    update(done) {
      const now = performance.now();
      if (now - logged < LOG_EVERY_MS || done === 0) return;
      logged = now;
      const eta = ((now - started) / done) * (total - done);
      stream.write(`${phase}: ${done}/${total} (${Math.round((100 * done) / total)}%), ETA ${Math.ceil(eta / 1000)} s\n`);
    },
    stop: () => stream.write(`${phase}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`),
  };
}
