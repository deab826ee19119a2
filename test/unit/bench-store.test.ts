/** A stored benchmark run's settings, read back: what it resumes with; and the form's, over a reload. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_RUN_SETTINGS } from '../../src/core/agent/run-settings.ts';
import { DEFAULT_BENCH_FORM, exportStem, readBenchForm, readBenchSettings, resumeProblem, retrievalOf, saveBenchForm, type BenchSettings } from '../../src/ui/bench-store.ts';

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

describe('what a stored run searched', () => {
  const createdAt = Date.UTC(2025, 0, 2, 3, 4, 5);
  const local: BenchSettings = { ...DEFAULT_RUN_SETTINGS, dataset: 'demo', policy: 'always-search', retrievalMode: 'hybrid' };
  const remote: BenchSettings = { ...local, retrievalMode: 'lexical', retrievalServer: 'http://127.0.0.1:8000/retrieve' };

  it('names a run on a retrieval server by its endpoint, in its row and its export files, and a local run by its mode', () => {
    expect(retrievalOf(readBenchSettings(remote))).toBe('http://127.0.0.1:8000/retrieve');
    expect(exportStem({ settings: readBenchSettings(remote), createdAt })).toBe('sdg-always-search-server-127.0.0.1-8000-2025-01-02-03-04-05');
    expect(retrievalOf(readBenchSettings(local))).toBe('hybrid');
    expect(exportStem({ settings: readBenchSettings(local), createdAt })).toBe('sdg-always-search-hybrid-2025-01-02-03-04-05');
  });

  it('reads a run stored before servers were named, or with a server that is no http URL, as a run on the local index', () => {
    expect(readBenchSettings(local)).toEqual(local);
    for (const retrievalServer of ['javascript:alert(1)', 'not a url', `http://example.org/${'x'.repeat(5_000)}`]) {
      expect(readBenchSettings({ ...local, retrievalServer })).toEqual(local);
    }
  });

  it('resumes only on what its first questions searched, and says what to connect to otherwise', () => {
    expect(resumeProblem(remote, 'http://127.0.0.1:8000/retrieve')).toBeNull();
    expect(resumeProblem(local, null)).toBeNull();
    expect(resumeProblem(remote, null)).toBe('this run searched the retrieval server at http://127.0.0.1:8000/retrieve: connect to it under Index to resume it');
    expect(resumeProblem(remote, 'http://gpu-box:8000/retrieve')).toMatch(/^this run searched the retrieval server at http:\/\/127\.0\.0\.1:8000\/retrieve/);
    expect(resumeProblem(local, 'http://127.0.0.1:8000/retrieve')).toBe('this run searched the local index: open it under Index to resume it');
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
