import { afterEach, describe, expect, it, vi } from 'vitest';
import { EngineError, type GenerateRequest, type GenerateResult, type LlmEngine } from '../../src/core/agent/engine.ts';
import { guardEngine } from '../../src/core/agent/engine-guard.ts';

const OK: GenerateResult = { text: 'fine', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 }, timings: { prefillMs: 0, decodeMs: 0 } };

function engine(generate: (request: GenerateRequest) => Promise<GenerateResult>): LlmEngine {
  return { label: 'test', capabilities: { grammar: false, logprobs: false }, generate, unload: async () => undefined };
}

afterEach(() => vi.useRealTimers());

describe('guarded engine', () => {
  it('passes answers through', async () => {
    const onFatal = vi.fn();
    const guarded = guardEngine(engine(async () => OK), { callTimeoutMs: 1000, onFatal });
    expect(await guarded.generate({ messages: [], maxTokens: 1 })).toEqual(OK);
    expect(onFatal).not.toHaveBeenCalled();
  });

  it('fails a hung call after its time limit, aborts it, and reports the engine broken once', async () => {
    vi.useFakeTimers();
    let seen: AbortSignal | undefined;
    const onFatal = vi.fn();
    const hung = engine((request) => {
      seen = request.signal;
      return new Promise(() => undefined); // never settles, ignores its abort
    });
    const guarded = guardEngine(hung, { callTimeoutMs: 5000, onFatal });
    const call = guarded.generate({ messages: [], maxTokens: 1 });
    const failed = expect(call).rejects.toThrow('did not answer within 5 s');
    await vi.advanceTimersByTimeAsync(5000);
    await failed;
    expect(seen?.aborted).toBe(true);
    expect(onFatal).toHaveBeenCalledTimes(1);
    // The broken engine is not called again: the next call fails at once.
    await expect(guarded.generate({ messages: [], maxTokens: 1 })).rejects.toThrow('being loaded again');
    expect(onFatal).toHaveBeenCalledTimes(1);
  });

  it('reports a fatal engine error (a lost GPU) and passes ordinary errors through', async () => {
    const onFatal = vi.fn();
    const flaky = guardEngine(engine(async () => Promise.reject(new EngineError('context full'))), { callTimeoutMs: 1000, onFatal });
    await expect(flaky.generate({ messages: [], maxTokens: 1 })).rejects.toThrow('context full');
    expect(onFatal).not.toHaveBeenCalled();
    const lost = guardEngine(engine(async () => Promise.reject(new EngineError('device lost', { fatal: true }))), { callTimeoutMs: 1000, onFatal });
    await expect(lost.generate({ messages: [], maxTokens: 1 })).rejects.toThrow('device lost');
    expect(onFatal).toHaveBeenCalledWith(expect.objectContaining({ fatal: true }));
  });

  it('leaves a user cancel to the engine: no timeout, nothing fatal', async () => {
    const onFatal = vi.fn();
    const cancel = new AbortController();
    const obedient = guardEngine(
      engine(async (request) => {
        cancel.abort();
        return { ...OK, finishReason: request.signal?.aborted ? 'abort' : 'stop' };
      }),
      { callTimeoutMs: 1000, onFatal },
    );
    expect((await obedient.generate({ messages: [], maxTokens: 1, signal: cancel.signal })).finishReason).toBe('abort');
    expect(onFatal).not.toHaveBeenCalled();
  });
});
