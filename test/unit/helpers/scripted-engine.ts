/**
 * A canned engine for testing the agent loop's logic (never an engine test): each call returns the next
 * scripted reply, honours stop strings and max tokens like a real engine, and streams in small pieces.
 */
import type { EngineCapabilities, GenerateRequest, GenerateResult, LlmEngine } from '../../../src/core/agent/engine.ts';

/** An unpaced script takes no model time. */
const NO_TIME = { prefillMs: 0, decodeMs: 0 };

export type Reply = string | ((request: GenerateRequest) => string);

/** Roughly four characters a token, as for English BPE text. */
const CHARS_PER_TOKEN = 4;

export interface ScriptedPace {
  /** Real time each streamed piece takes, and the decoding time the engine reports for it. */
  msPerPiece: number;
}

export class ScriptedEngine implements LlmEngine {
  readonly label = 'scripted';
  readonly requests: GenerateRequest[] = [];
  private next = 0;

  constructor(
    private readonly replies: Reply[],
    readonly capabilities: EngineCapabilities = { grammar: false, logprobs: false },
    private readonly pace?: ScriptedPace,
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
    for (let sent = 0; sent < text.length; sent += 3) {
      // Like a real engine, an aborted generation ends with what it wrote so far.
      if (request.signal?.aborted) return this.result(text.slice(0, sent), 'abort', sent / 3);
      request.onText?.(text.slice(sent, sent + 3));
      await (this.pace ? new Promise((resolve) => setTimeout(resolve, this.pace?.msPerPiece)) : Promise.resolve());
    }
    return this.result(text, finishReason, Math.ceil(text.length / 3));
  }

  private result(text: string, finishReason: GenerateResult['finishReason'], pieces: number): GenerateResult {
    const timings = this.pace ? { prefillMs: 0, decodeMs: pieces * this.pace.msPerPiece } : NO_TIME;
    return { text, finishReason, usage: { promptTokens: 10, completionTokens: Math.ceil(text.length / CHARS_PER_TOKEN) }, timings };
  }

  async unload(): Promise<void> {}
}
