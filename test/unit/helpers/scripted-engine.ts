/**
 * A canned engine for testing the agent loop's logic (never an engine test): each call returns the next
 * scripted reply, honours stop strings and max tokens like a real engine, and streams in small pieces.
 */
import type { EngineCapabilities, GenerateRequest, GenerateResult, LlmEngine } from '../../../src/core/agent/engine.ts';

/** A script takes no model time. */
const NO_TIME = { prefillMs: 0, decodeMs: 0 };

export type Reply = string | ((request: GenerateRequest) => string);

/** Roughly four characters a token, as for English BPE text. */
const CHARS_PER_TOKEN = 4;

export class ScriptedEngine implements LlmEngine {
  readonly label = 'scripted';
  readonly requests: GenerateRequest[] = [];
  private next = 0;

  constructor(
    private readonly replies: Reply[],
    readonly capabilities: EngineCapabilities = { grammar: false, logprobs: false },
  ) {}

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.requests.push(structuredClone({ ...request, signal: undefined, onText: undefined }));
    request.signal?.throwIfAborted();
    const reply = this.replies[Math.min(this.next++, this.replies.length - 1)] ?? '';
    let text = typeof reply === 'function' ? reply(request) : reply;
    let finishReason: GenerateResult['finishReason'] = 'stop';
    for (const stop of request.stop ?? []) {
      const at = text.indexOf(stop);
      if (at >= 0) text = text.slice(0, at);
    }
    if (text.length > request.maxTokens * CHARS_PER_TOKEN) {
      text = text.slice(0, request.maxTokens * CHARS_PER_TOKEN);
      finishReason = 'length';
    }
    for (let i = 0; i < text.length; i += 3) {
      request.signal?.throwIfAborted();
      request.onText?.(text.slice(i, i + 3));
      await Promise.resolve();
    }
    return { text, finishReason, usage: { promptTokens: 10, completionTokens: Math.ceil(text.length / CHARS_PER_TOKEN) }, timings: NO_TIME };
  }

  async unload(): Promise<void> {}
}
