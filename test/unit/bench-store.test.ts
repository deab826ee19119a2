/** A stored benchmark run's settings, read back: what it resumes with. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_SETTINGS } from '../../src/core/agent/run-settings.ts';
import { readBenchSettings, type BenchSettings } from '../../src/ui/bench-store.ts';

describe('stored benchmark settings', () => {
  it('keeps the run settings a run was started with', () => {
    const settings: BenchSettings = { dataset: 'demo', policy: 'always-search', topK: 5, maxTurns: 4, retrievalMode: 'dense', reasonInDocument: true, noiseKind: 'distract', noisePercent: 20, grammar: false };
    expect(readBenchSettings(settings)).toEqual(settings);
  });

  it('reads a run stored before the settings were kept as it ran: its retrieval and failed share, the defaults otherwise', () => {
    expect(readBenchSettings({ dataset: 'demo', policy: 'no-search', retrieval: 'hybrid', noise: 0.1 })).toEqual({
      ...DEFAULT_RUN_SETTINGS,
      dataset: 'demo',
      policy: 'no-search',
      retrievalMode: 'hybrid',
      noiseKind: 'fail',
      noisePercent: 10,
    });
  });

  it('falls back to the default for a field that does not fit, keeping the others', () => {
    expect(readBenchSettings({ dataset: 'demo', policy: 'always-search', topK: 500, maxTurns: 2 })).toEqual({ ...DEFAULT_RUN_SETTINGS, dataset: 'demo', policy: 'always-search', maxTurns: 2 });
  });
});
