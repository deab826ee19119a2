/**
 * Collects a streamed OpenAI-shaped chat completion (the shape wllama, WebLLM and OpenAI-compatible
 * servers all stream) into a GenerateResult, forwarding each text delta as it comes. Servers that split a
 * Qwen3 `<think>` block into `reasoning_content` get it put back inside `<think>…</think>`, where the
 * model wrote it, so the agent's trace keeps it.
 */
import type { FinishReason, GenerateRequest, GenerateResult, TokenLogprob } from '../core/agent/engine.ts';

interface ChunkLogprob {
  token: string;
  logprob: number;
  top_logprobs?: readonly { token: string; logprob: number }[] | null;
}

export interface ChatChunk {
  choices?:
    | readonly {
        delta?: { content?: string | null; reasoning_content?: string | null } | null;
        finish_reason?: string | null;
        logprobs?: { content?: readonly ChunkLogprob[] | null } | null;
      }[]
    | null;
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
}

export type Usage = GenerateResult['usage'];
export type Timings = GenerateResult['timings'];

export class ChatStream {
  private text = '';
  private inReasoning = false;
  private finish: FinishReason = 'stop';
  private usage: Usage | undefined;
  private timings: Timings | undefined;
  private readonly logprobs: TokenLogprob[] = [];
  /** Text-bearing chunks: about one a token, the count left when an abort leaves no usage. */
  private pieces = 0;
  private readonly started = performance.now();

  constructor(private readonly onText?: (delta: string) => void) {}

  add(chunk: ChatChunk): void {
    const choice = chunk.choices?.[0];
    if (choice) {
      this.addDelta(choice.delta?.reasoning_content ?? '', choice.delta?.content ?? undefined);
      for (const entry of choice.logprobs?.content ?? []) this.logprobs.push(toLogprob(entry));
      if (choice.finish_reason) this.finish = finishReason(choice.finish_reason);
    }
    if (chunk.usage) this.usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
  }

  /** Engine-specific timing reports (llama.cpp's `timings`, WebLLM's `usage.extra`). */
  setTimings(timings: Timings): void {
    this.timings = timings;
  }

  /** `fallback` usage applies when the stream reported none (e.g. an aborted request). */
  result(override?: FinishReason, fallback?: Partial<Usage>): GenerateResult {
    if (this.inReasoning) this.addDelta('', '');
    return {
      text: this.text,
      finishReason: override ?? this.finish,
      usage: this.usage ?? { promptTokens: fallback?.promptTokens ?? 0, completionTokens: fallback?.completionTokens ?? this.pieces },
      // Without engine timings the whole call counts as decoding.
      timings: this.timings ?? { prefillMs: 0, decodeMs: performance.now() - this.started },
      ...(this.logprobs.length && { logprobs: this.logprobs }),
    };
  }

  private addDelta(reasoning: string, content: string | undefined): void {
    let piece = '';
    if (reasoning) {
      piece += (this.inReasoning ? '' : '<think>') + reasoning;
      this.inReasoning = true;
    }
    if (content !== undefined && this.inReasoning) {
      piece += '</think>';
      this.inReasoning = false;
    }
    piece += content ?? '';
    if (!piece) return;
    this.pieces++;
    this.text += piece;
    this.onText?.(piece);
  }
}

function finishReason(reason: string): FinishReason {
  if (reason === 'length') return 'length';
  return reason === 'abort' ? 'abort' : 'stop';
}

function toLogprob(entry: ChunkLogprob): TokenLogprob {
  const top = entry.top_logprobs?.map(({ token, logprob }) => ({ token, logprob }));
  return top?.length ? { token: entry.token, logprob: entry.logprob, top } : { token: entry.token, logprob: entry.logprob };
}

/** The request fields every OpenAI-shaped chat API names alike; grammar and thinking differ per engine. */
export function commonChatFields(request: GenerateRequest) {
  return {
    messages: request.messages.map(({ role, content }) => ({ role, content })),
    max_tokens: request.maxTokens,
    // Without it a stream carries no token counts.
    stream_options: { include_usage: true },
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.stop?.length && { stop: request.stop }),
    ...(request.logprobs && { logprobs: true, top_logprobs: request.topLogprobs ?? 0 }),
  };
}
