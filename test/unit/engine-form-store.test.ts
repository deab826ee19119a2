import { describe, expect, it } from 'vitest';
import { configuredUrls, DEFAULT_ENGINE_FORM, parseEngineForm } from '../../src/ui/engine-form-store.ts';

describe('the stored engine form', () => {
  it('keeps valid stored choices and never an API key', () => {
    const stored = { ...DEFAULT_ENGINE_FORM, kind: 'openai', baseUrl: 'https://llm.example.org/v1', openaiModel: 'qwen3-4b', apiKey: 'sk-secret' };
    const parsed = parseEngineForm(stored);
    expect(parsed).toEqual({ ...DEFAULT_ENGINE_FORM, kind: 'openai', baseUrl: 'https://llm.example.org/v1', openaiModel: 'qwen3-4b' });
    expect(JSON.stringify(parsed)).not.toContain('sk-secret');
  });

  it('replaces each bad field with its default and keeps the rest', () => {
    const parsed = parseEngineForm({ kind: 'gpt', ggufUrl: 'https://m.example.org/a.gguf', baseUrl: 42, customId: 'x'.repeat(5_000), openaiModel: null });
    expect(parsed).toEqual({ ...DEFAULT_ENGINE_FORM, ggufUrl: 'https://m.example.org/a.gguf' });
    expect(parseEngineForm('garbage')).toEqual(DEFAULT_ENGINE_FORM);
    expect(parseEngineForm(null)).toEqual(DEFAULT_ENGINE_FORM);
  });

  it('names every URL the user configured, for every engine', () => {
    const values = { ...DEFAULT_ENGINE_FORM, customModelUrl: 'https://w.example.org/m/', customLibUrl: ' ', weightsBaseUrl: 'https://mirror.example.org' };
    expect(configuredUrls(values)).toEqual([DEFAULT_ENGINE_FORM.ggufUrl, 'https://w.example.org/m/', 'https://mirror.example.org', DEFAULT_ENGINE_FORM.baseUrl]);
  });
});
