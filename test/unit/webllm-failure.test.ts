import { IntegrityError } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/core/agent/engine.ts';
import { generateError, loadError } from '../../src/engines/webllm-failure.ts';

const estimate = async () => ({ usage: 900e6, quota: 1000e6 });

/**
 * What the main thread receives for a failure in WebLLM's worker: the text of `err.toString()`. Its
 * classes are not exported, so their names and messages are written here as lib/index.js builds them.
 */
const DEVICE_LOST =
  'DeviceLostError: The WebGPU device was lost while loading the model. This issue often occurs due to running out of memory (OOM). To resolve this, try reloading with a model that has fewer parameters or uses a smaller context length.';
const CONTEXT_EXCEEDED =
  'ContextWindowSizeExceededError: Prompt tokens exceed context window size: number of prompt tokens: 5000; context window size: 4096\nConsider shortening the prompt, or increase `context_window_size`, or using sliding window via `sliding_window_size`.';

describe('WebLLM load errors', () => {
  it('turns a full store into the storage message, with the weights it needed and the space left', async () => {
    const quota = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    const error = await loadError(quota, 'Qwen3-1.7B-q4f16_1-MLC', estimate);
    expect(error.message).toBe('not enough storage to keep the weights of Qwen3-1.7B-q4f16_1-MLC: 956 MB needed, 100 MB free; delete an index or a model under Storage, then try again');
  });

  it('recognises the quota error by the name in front of its text when it crossed the worker boundary', async () => {
    const crossings = [
      "QuotaExceededError: Failed to execute 'put' on 'Cache'",
      new Error('QuotaExceededError: Failed to execute put on Cache'),
      // Firefox's older name: only the name tells, its message never says "quota exceeded".
      'NS_ERROR_DOM_QUOTA_REACHED: The current transaction exceeded its quota limitations.',
    ];
    for (const crossed of crossings) {
      const error = await loadError(crossed, 'Qwen3-0.6B-q4f32_1-MLC', estimate);
      expect(error.message).toMatch(/^not enough storage to keep the weights of Qwen3-0\.6B-q4f32_1-MLC: 375 MB needed/);
    }
  });

  it('a weight file that did not arrive says which files to check, where WebLLM says only "Request failed"', async () => {
    // As it reaches the page from the worker (seen on the real runtime, test/webllm).
    const failed = new Error("TypeError: Failed to execute 'add' on 'Cache': Request failed");
    const message = (await loadError(failed, 'my-model', estimate)).message;
    expect(message).toMatch(/^could not load my-model: one of its files could not be downloaded \(TypeError: Failed to execute 'add' on 'Cache': Request failed\)\. /);
    expect(message).toContain('every weight shard its ndarray-cache.json or tensor-cache.json lists');
  });

  it('keeps any other failure as it was, naming the model', async () => {
    expect((await loadError(new Error('404 Not Found'), 'Qwen3-0.6B-q4f32_1-MLC', estimate)).message).toBe('could not load Qwen3-0.6B-q4f32_1-MLC: 404 Not Found');
    const corrupt = new IntegrityError('https://example.org/w/params_shard_0.bin', 'sha256-a', 'sha256-b');
    expect((await loadError(corrupt, 'Qwen3-0.6B-q4f32_1-MLC', estimate)).message).toBe(`could not load Qwen3-0.6B-q4f32_1-MLC: ${corrupt.message}`);
  });
});

describe('WebLLM generate errors', () => {
  it('a lost GPU device, by its class or in WebGPU\'s own words, makes the page load the model again', () => {
    for (const lost of [DEVICE_LOST, new Error('GPUDevice was lost: the device was destroyed')]) {
      const error = generateError(lost);
      expect(error).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ fatal: true, message: expect.stringMatching(/^the GPU device was lost \(.+\); the model is being loaded again$/) });
    }
  });

  it('passes any other failure on as it came, the engine kept', () => {
    expect(generateError(CONTEXT_EXCEEDED)).toBe(CONTEXT_EXCEEDED);
  });
});
