import { afterEach, describe, expect, it, vi } from 'vitest';
import { configuredUrls, DEFAULT_ENGINE_FORM, parseEngineForm, readLastModel, saveLastModel } from '../../src/ui/engine-form-store.ts';

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

describe('the model loaded last', () => {
  /** localStorage as the browser keeps it, for one test. */
  function stubStorage(): Map<string, string> {
    const items = new Map<string, string>();
    vi.stubGlobal('localStorage', {
      getItem: (key: string) => items.get(key) ?? null,
      setItem: (key: string, value: string) => void items.set(key, value),
      removeItem: (key: string) => void items.delete(key),
    });
    return items;
  }
  afterEach(() => vi.unstubAllGlobals());

  it('is kept for a GGUF or a WebLLM model, and forgotten on unload', () => {
    stubStorage();
    saveLastModel({ kind: 'wllama', modelUrl: 'https://m.example.org/a.gguf' });
    expect(readLastModel()).toEqual({ kind: 'wllama', modelUrl: 'https://m.example.org/a.gguf' });
    saveLastModel({ kind: 'webllm', model: 'Qwen3-0.6B', weightsBaseUrl: 'https://mirror.example.org' });
    expect(readLastModel()).toEqual({ kind: 'webllm', model: 'Qwen3-0.6B', weightsBaseUrl: 'https://mirror.example.org' });
    saveLastModel(null);
    expect(readLastModel()).toBeNull();
  });

  it('is never a server, whose API key must not be stored', () => {
    const items = stubStorage();
    saveLastModel({ kind: 'wllama', modelUrl: 'https://m.example.org/a.gguf' });
    saveLastModel({ kind: 'openai', baseUrl: 'https://llm.example.org/v1', model: 'qwen3', apiKey: 'sk-secret' });
    expect(readLastModel()).toBeNull();
    expect([...items.values()].join()).not.toContain('sk-secret');
  });

  it('reads a hand-edited or broken entry as none', () => {
    const items = stubStorage();
    items.set('sdg.last-model.v1', '{"kind":"wllama","modelUrl":42}');
    expect(readLastModel()).toBeNull();
    items.set('sdg.last-model.v1', '{not json');
    expect(readLastModel()).toBeNull();
  });
});
