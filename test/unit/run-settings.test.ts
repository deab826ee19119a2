import { describe, expect, it } from 'vitest';
import { agentConfig, DEFAULT_RUN_SETTINGS, parseRunSettings, runRetriever } from '../../src/core/agent/run-settings.ts';
import { alwaysSearch } from '../../src/core/agent/policy.ts';
import type { Passage, Retriever } from '../../src/core/agent/retriever.ts';

const ranked: Retriever = {
  search: async (query, k) => Array.from({ length: k }, (_, i): Passage => ({ id: `${query}-${i}`, title: query, text: `rank ${i}`, score: k - i })),
};

describe('run settings', () => {
  it('keeps valid stored settings', () => {
    const stored = { topK: 5, maxTurns: 8, retrievalMode: 'hybrid', reasonInDocument: true, noiseKind: 'distract', noisePercent: 10, grammar: false };
    expect(parseRunSettings(stored)).toEqual(stored);
  });

  it('replaces each bad field with its default and keeps the rest', () => {
    const parsed = parseRunSettings({ topK: 500, maxTurns: 4, retrievalMode: '<script>', noisePercent: -3, grammar: 'yes' });
    expect(parsed).toEqual({ ...DEFAULT_RUN_SETTINGS, maxTurns: 4 });
  });

  it('falls back to the defaults for something that is not settings at all', () => {
    expect(parseRunSettings('garbage')).toEqual(DEFAULT_RUN_SETTINGS);
    expect(parseRunSettings(null)).toEqual(DEFAULT_RUN_SETTINGS);
  });

  it('turns settings into the agent options a run uses', () => {
    const config = agentConfig({ ...DEFAULT_RUN_SETTINGS, topK: 7, maxTurns: 3, reasonInDocument: true, grammar: false }, alwaysSearch);
    expect(config).toMatchObject({ policy: alwaysSearch, topK: 7, maxTurns: 3, reasonInDocument: true, grammar: false });
  });

  it('spoils every search at 100% noise: failures return nothing, distractors return the next-best passages', async () => {
    const fail = runRetriever(ranked, { ...DEFAULT_RUN_SETTINGS, noiseKind: 'fail', noisePercent: 100 });
    expect(await fail.search('q', 3)).toEqual([]);
    const distract = runRetriever(ranked, { ...DEFAULT_RUN_SETTINGS, noiseKind: 'distract', noisePercent: 100 });
    expect((await distract.search('q', 3)).map((p) => p.id)).toEqual(['q-3', 'q-4', 'q-5']);
    expect(runRetriever(ranked, DEFAULT_RUN_SETTINGS)).toBe(ranked);
  });
});
