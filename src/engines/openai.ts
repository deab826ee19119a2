/**
 * An OpenAI-compatible chat server (llama.cpp's llama-server, Ollama, vLLM) as an engine: a larger
 * "teacher" model on the user's own machine. Works in the browser and in Node (global fetch).
 *
 * Grammar goes in llama.cpp's `grammar` field (other servers ignore it); thinking in
 * `chat_template_kwargs.enable_thinking`. Servers that split a Qwen3 `<think>` block into
 * `reasoning_content` get it put back in front of the content, so the agent's trace keeps it.
 */
import { z } from 'zod';
import {
  EngineError,
  type EngineCapabilities,
  type GenerateRequest,
  type GenerateResult,
  type LlmEngine,
} from '../core/agent/engine.ts';
import { readSse } from './sse.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { serverErrorText } from '../core/util/server-error.ts';
import { readHttpUrl, type UrlField } from '../core/util/http-url.ts';
import { ChatStream, commonChatFields } from './chat-stream.ts';

export interface OpenAiEngineOptions {
  /** e.g. `http://127.0.0.1:8080/v1` */
  baseUrl: string;
  model: string;
  apiKey?: string;
}

const TopLogprob = z.object({ token: z.string(), logprob: z.number() });
const Chunk = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish(), reasoning_content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
        logprobs: z.object({ content: z.array(TopLogprob.extend({ top_logprobs: z.array(TopLogprob).nullish() })).nullish() }).nullish(),
      }),
    )
    .nullish(),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
  timings: z.object({ prompt_ms: z.number(), predicted_ms: z.number() }).nullish(),
});
type Chunk = z.infer<typeof Chunk>;

export function validateBaseUrl(raw: string): string {
  const read = readHttpUrl(raw, SERVER_URL);
  if ('problem' in read) throw new EngineError(read.problem);
  return read.url.href.replace(/\/+$/, '');
}

const SERVER_URL: UrlField = { what: 'server URL', example: 'http://127.0.0.1:8080/v1' };

export class OpenAiEngine implements LlmEngine {
  readonly capabilities: EngineCapabilities = { grammar: true, logprobs: true };
  readonly label: string;
  private readonly baseUrl: string;

  constructor(private readonly options: OpenAiEngineOptions) {
    this.baseUrl = validateBaseUrl(options.baseUrl);
    if (!options.model.trim()) throw new EngineError('name the model the server should run');
    this.label = `${options.model} · ${new URL(this.baseUrl).host}`;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const response = await this.post(request);
    const stream = new ChatStream(request.onText);
    let skipped = 0;
    try {
      for await (const data of readSse(response)) {
        const chunk = parseChunk(data);
        if (!chunk) skipped++;
        else if (chunk.timings) stream.setTimings({ prefillMs: chunk.timings.prompt_ms, decodeMs: chunk.timings.predicted_ms });
        if (chunk) stream.add(chunk);
      }
    } catch (error) {
      if (request.signal?.aborted) return stream.result('abort');
      throw error;
    } finally {
      if (skipped) console.warn(`openai engine: skipped ${skipped} malformed stream chunks`);
    }
    return stream.result();
  }

  async unload(): Promise<void> {}

  private async post(request: GenerateRequest): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(this.options.apiKey && { authorization: `Bearer ${this.options.apiKey}` }) },
        body: JSON.stringify(this.body(request)),
        ...(request.signal && { signal: request.signal }),
      });
    } catch (error) {
      if (request.signal?.aborted) throw error;
      throw new EngineError(`could not reach ${this.baseUrl}: ${errorMessage(error)}`);
    }
    if (!response.ok) throw new EngineError(`${this.baseUrl} answered HTTP ${response.status}: ${await serverErrorText(response)}`);
    if (!response.body) throw new EngineError(`${this.baseUrl} sent no response body`);
    return response;
  }

  private body(request: GenerateRequest): Record<string, unknown> {
    return {
      ...commonChatFields(request),
      model: this.options.model,
      stream: true,
      ...(request.grammar && { grammar: request.grammar }),
      ...(request.thinking !== undefined && { chat_template_kwargs: { enable_thinking: request.thinking } }),
    };
  }
}

/** Malformed chunks are skipped (counted), never fatal: one bad line must not lose a whole answer. */
function parseChunk(data: string): Chunk | null {
  try {
    const parsed = Chunk.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
