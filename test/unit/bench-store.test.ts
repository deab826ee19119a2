/** A stored benchmark run's settings, read back: what it resumes with; and the form's, over a reload. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_SETTINGS } from '../../src/core/agent/run-settings.ts';
import { DEFAULT_BENCH_FORM, readBenchForm, readBenchSettings, saveBenchForm, type BenchSettings } from '../../src/ui/bench-store.ts';

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

/** localStorage as the browser keeps it. */
function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> {
  const items = new Map<string, string>();
  return { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

describe('the benchmark form over a reload', () => {
  it('asks for as many questions, with the same policy, as before the reload', () => {
    const storage = memoryStorage();
    expect(readBenchForm(storage)).toEqual(DEFAULT_BENCH_FORM);
    saveBenchForm({ count: 3, policy: 'no-search' }, storage);
    expect(readBenchForm(storage)).toEqual({ count: 3, policy: 'no-search' });
  });

  it('falls back per field for what it cannot read, and wholly for what is not JSON', () => {
    const storage = memoryStorage();
    storage.setItem('sdg.bench-form.v1', JSON.stringify({ count: 7, policy: 'adaptive' }));
    expect(readBenchForm(storage)).toEqual({ count: 7, policy: DEFAULT_BENCH_FORM.policy });
    storage.setItem('sdg.bench-form.v1', JSON.stringify({ count: 0.5, policy: 'no-search' }));
    expect(readBenchForm(storage)).toEqual({ count: DEFAULT_BENCH_FORM.count, policy: 'no-search' });
    storage.setItem('sdg.bench-form.v1', '{not json');
    expect(readBenchForm(storage)).toEqual(DEFAULT_BENCH_FORM);
  });

  it('keeps the form for the visit when the browser refuses storage', () => {
    const refusing = { setItem: () => { throw new DOMException('quota', 'QuotaExceededError'); } };
    expect(() => saveBenchForm({ count: 3, policy: 'no-search' }, refusing)).not.toThrow();
  });
});
