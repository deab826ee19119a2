import { describe, expect, it } from 'vitest';
import type { LoadProgress } from '../../src/core/util/load-progress.ts';
import { webLlmProgress } from '../../src/engines/webllm-progress.ts';

/** WebLLM's reports of a load, phase by phase, as 0.2.79 sends them on the real runtime. */
const download = [
  { progress: 0, text: 'Start to fetch params' },
  { progress: 0.5, text: 'Fetching param cache[4/9]: 150MB fetched. 50% completed, 3 secs elapsed.' },
  { progress: 1, text: 'Fetching param cache[8/9]: 295MB fetched. 100% completed, 6 secs elapsed.' },
];
const copy = [
  { progress: 0.2, text: 'Loading model from cache[2/9]: 60MB loaded. 20% completed, 1 secs elapsed.' },
  { progress: 1, text: 'Loading model from cache[9/9]: 295MB loaded. 100% completed, 4 secs elapsed.' },
];
const shaders = [
  { progress: 0.1, text: 'Loading GPU shader modules[7/73]: 10% completed, 5 secs elapsed.' },
  { progress: 1, text: 'Loading GPU shader modules[73/73]: 100% completed, 50 secs elapsed.' },
  { progress: 1, text: 'Finish loading on WebGPU - google' },
];

function run(reports: readonly { progress: number; text: string }[]): LoadProgress[] {
  const seen: LoadProgress[] = [];
  const report = webLlmProgress((p) => seen.push(p));
  for (const r of reports) report(r);
  return seen;
}

describe('WebLLM load progress as one bar', () => {
  it('never moves back across the phases of a first load, and ends full', () => {
    const seen = run([...download, ...copy, ...shaders]);
    const fractions = seen.map((p) => p.fraction ?? -1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions[2]).toBeCloseTo(0.8);
    expect(fractions.at(-1)).toBe(1);
    expect(seen.map((p) => p.text)).toEqual([...download, ...copy, ...shaders].map((r) => r.text));
    // The weights were downloaded: the copy to the GPU reads WebLLM's cache, but the load is no cached one.
    expect(seen.some((p) => p.fromCache)).toBe(false);
  });

  it('a load from the cache spends the bar on its two phases and says it came from the cache', () => {
    const seen = run([download[0] ?? { progress: 0, text: '' }, ...copy, ...shaders]);
    expect(seen.map((p) => p.fraction)).toEqual([0, 0.1, 0.5, 0.55, 1, 1]);
    expect(seen.filter((p) => p.fromCache).length).toBe(copy.length);
  });

  it('a report that is not a number cannot break the bar', () => {
    const seen = run([{ progress: Number.NaN, text: 'Fetching param cache[0/9]' }, { progress: 7, text: 'Loading model from cache[9/9]' }]);
    expect(seen.map((p) => p.fraction)).toEqual([0, 0.9]);
  });
});
