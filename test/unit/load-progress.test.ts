/** Loads in a row shown as one progress bar, and files that report their bytes one by one. */
import { describe, expect, it } from 'vitest';
import { filesProgress, phasedProgress, type LoadProgress } from '../../src/core/util/load-progress.ts';

function recorder() {
  const seen: LoadProgress[] = [];
  return { seen, report: (progress: LoadProgress) => void seen.push(progress), fractions: () => seen.map((p) => p.fraction) };
}

describe('phasedProgress', () => {
  it('gives each phase a share of the bar by its weight, after the start', () => {
    const bar = recorder();
    const phases = phasedProgress(bar.report, { embedder: 1_000, shards: 3_000 }, 0.2);
    phases.embedder({ text: 'embedder', fraction: 0.5 });
    phases.embedder({ text: 'embedder', fraction: 1 });
    phases.shards({ text: 'shard 1', fraction: 0.5 });
    phases.shards({ text: 'shard 2', fraction: 1 });
    expect(bar.fractions()).toEqual([0.2 + 0.8 * 0.125, 0.2 + 0.8 * 0.25, 0.2 + 0.8 * 0.625, 1]);
    expect(bar.seen.map((p) => p.text)).toEqual(['embedder', 'embedder', 'shard 1', 'shard 2']);
  });

  it('never moves back: not when a phase starts over, nor when its own fraction falls', () => {
    const bar = recorder();
    const phases = phasedProgress(bar.report, { embedder: 1, shards: 1 });
    phases.embedder({ text: 'config.json', fraction: 1 });
    // A second, larger file was found: the embedder's own fraction drops.
    phases.embedder({ text: 'model.onnx', fraction: 0.1 });
    phases.embedder({ text: 'model.onnx', fraction: 0.9 });
    phases.shards({ text: 'dictionary' });
    expect(bar.fractions()).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('leaves a phase of no weight out of the bar', () => {
    const bar = recorder();
    const phases = phasedProgress(bar.report, { embedder: 0, shards: 10 }, 0.1);
    phases.embedder({ text: 'no embedder', fraction: 1 });
    phases.shards({ text: 'half', fraction: 0.5 });
    expect(bar.fractions()).toEqual([0.1, 0.55]);
  });
});

describe('filesProgress', () => {
  it('sums the bytes of every file seen, so each new file does not restart the bar', () => {
    const bar = recorder();
    const files = filesProgress(bar.report);
    files('config.json', 'config.json', 100, 100);
    files('model.onnx', 'model.onnx', 450, 900);
    files('model.onnx', 'model.onnx', 900, 900);
    expect(bar.seen).toEqual([
      { text: 'config.json', loadedBytes: 100, totalBytes: 100, fraction: 1 },
      { text: 'model.onnx', loadedBytes: 550, totalBytes: 1000, fraction: 0.55 },
      { text: 'model.onnx', loadedBytes: 1000, totalBytes: 1000, fraction: 1 },
    ]);
  });
});
