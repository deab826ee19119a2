import { describe, expect, it } from 'vitest';
import { loadError } from '../../src/engines/webllm.ts';

const estimate = async () => ({ usage: 900e6, quota: 1000e6 });

describe('WebLLM load errors', () => {
  it('turns a full store into the storage message, with the weights it needed and the space left', async () => {
    const quota = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const error = await loadError(quota, 'Qwen3-1.7B-q4f16_1-MLC', estimate);
    expect(error.message).toBe('not enough storage to keep the weights of Qwen3-1.7B-q4f16_1-MLC: 956 MB needed, 100 MB free; delete an index or a model under Storage, then try again');
  });

  it('recognises the quota error by its text when it crossed the worker boundary as a plain Error', async () => {
    const error = await loadError(new Error('QuotaExceededError: Failed to execute put on Cache'), 'Qwen3-0.6B-q4f32_1-MLC', estimate);
    expect(error.message).toMatch(/^not enough storage to keep the weights of Qwen3-0\.6B-q4f32_1-MLC: 375 MB needed/);
  });

  it('keeps any other failure as it was, naming the model', async () => {
    const error = await loadError(new Error('404 Not Found'), 'Qwen3-0.6B-q4f32_1-MLC', estimate);
    expect(error.message).toBe('could not load Qwen3-0.6B-q4f32_1-MLC: 404 Not Found');
  });
});
