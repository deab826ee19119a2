/**
 * WebLLM (MLC, WebGPU) in a web worker: the main engine on GPUs. Qwen3 thinking is set per request
 * through `extra_body.enable_thinking`: with `false` WebLLM opens the answer with an empty think block,
 * which the trace parser reads as an empty thought; the agent's own `<think>` steps work either way.
 */
import type { ChatCompletionRequestStreaming, MLCEngineInterface } from '@mlc-ai/web-llm';
import {
  EngineError,
  type ChatMessage,
  type EngineCapabilities,
  type GenerateRequest,
  type GenerateResult,
  type LlmEngine,
} from '../core/agent/engine.ts';
import type { LoadProgress } from '../core/util/load-progress.ts';
import { detectGpu } from './webgpu.ts';
import { ChatStream, commonChatFields, type Timings } from './chat-stream.ts';
import { customModelRecord, prebuiltModel, probeModelConfig, selfHosted, type ModelRecordLike } from './webllm-models.ts';
import { generateError, loadError } from './webllm-failure.ts';
import { webLlmProgress } from './webllm-progress.ts';
import { errorMessage } from '../core/util/error-message.ts';

export interface WebLlmEngineOptions {
  /** A Qwen3 family from the prebuilt list, e.g. "Qwen3-0.6B"; ignored when `custom` is given. */
  model: string;
  /** Custom weights (see CustomModel): `{ id, modelUrl, modelLibUrl, contextWindow? }`. */
  custom?: unknown;
  /** Serve the prebuilt weights and libraries from here instead of Hugging Face and GitHub. */
  weightsBaseUrl?: string;
  onProgress?: (progress: LoadProgress) => void;
}

export class WebLlmEngine implements LlmEngine {
  readonly capabilities: EngineCapabilities = { grammar: true, logprobs: true };

  private constructor(
    private readonly engine: MLCEngineInterface,
    private readonly worker: Worker,
    readonly label: string,
  ) {}

  /** The last reply as WebLLM keeps it in its conversation, for the next request's history. */
  private lastReply: VerbatimReply | null = null;

  static async load(options: WebLlmEngineOptions): Promise<WebLlmEngine> {
    const gpu = await detectGpu();
    if (!gpu.webgpu) throw new EngineError(`WebLLM needs WebGPU. ${gpu.reason}`);
    const { record, why } = await chooseRecord(options, gpu.shaderF16);
    const report = options.onProgress ?? (() => undefined);
    report({ text: `loading ${record.model_id} (${why})` });
    const webllm = await import('@mlc-ai/web-llm');
    const worker = new Worker(new URL('../../workers/llm.worker.ts', import.meta.url), { type: 'module' });
    try {
      const engine = await webllm.CreateWebWorkerMLCEngine(worker, record.model_id, {
        appConfig: { ...webllm.prebuiltAppConfig, model_list: [record] },
        initProgressCallback: webLlmProgress(report),
      });
      return new WebLlmEngine(engine, worker, `WebLLM · ${record.model_id}`);
    } catch (error) {
      worker.terminate();
      throw await loadError(error, record.model_id);
    }
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    request.signal?.throwIfAborted();
    const interrupt = (): void => this.engine.interruptGenerate();
    request.signal?.addEventListener('abort', interrupt, { once: true });
    const previous = this.lastReply;
    this.lastReply = null;
    try {
      const chunks = await this.engine.chat.completions.create(toWebLlmRequest({ ...request, messages: withVerbatimReply(request.messages, previous) }));
      const stream = new ChatStream(request.onText);
      for await (const chunk of chunks) {
        stream.add(chunk);
        if (chunk.usage?.extra) stream.setTimings(timingsOf(chunk.usage.extra));
      }
      const streamed = stream.result(request.signal?.aborted ? 'abort' : undefined);
      // Only a stop string can make WebLLM's record differ from what streamed: without one, no round trip.
      const stops = request.signal?.aborted ? [] : (request.stop ?? []);
      const result = stops.length ? withStopCut(streamed, await this.engine.getMessage(), stops) : streamed;
      // Only a reply that ended on a stop is continued in place by WebLLM (see withVerbatimReply).
      if (result.finishReason === 'stop') this.lastReply = { text: result.text, stops: request.stop ?? [] };
      return result;
    } catch (error) {
      throw generateError(error);
    } finally {
      request.signal?.removeEventListener('abort', interrupt);
    }
  }

  async unload(): Promise<void> {
    await this.engine.unload().catch(() => undefined);
    this.worker.terminate();
  }
}

/** Whether WebLLM keeps this model's weights in the browser's cache, so a load needs no download. */
export async function isWebLlmStored(options: WebLlmEngineOptions): Promise<boolean> {
  const { record } = await chooseRecord(options, (await detectGpu()).shaderF16);
  return isCached(record);
}

/**
 * The checks run before the loaded model is let go: WebGPU, a model this version knows, and (unless it
 * is stored) a model configuration at its URL, so a typo or a 404 costs nothing.
 */
export async function checkWebLlmSource(options: WebLlmEngineOptions): Promise<void> {
  const gpu = await detectGpu();
  if (!gpu.webgpu) throw new EngineError(`WebLLM needs WebGPU. ${gpu.reason}`);
  const { record } = await chooseRecord(options, gpu.shaderF16);
  if (await isCached(record)) return;
  try {
    await probeModelConfig(record.model);
  } catch (error) {
    // Worded as a failed load is: the user asked for this model.
    throw new EngineError(`could not load ${record.model_id}: ${errorMessage(error)}`, { cause: error });
  }
}

async function isCached(record: ModelRecordLike): Promise<boolean> {
  const webllm = await import('@mlc-ai/web-llm');
  return webllm.hasModelInCache(record.model_id, { ...webllm.prebuiltAppConfig, model_list: [record] }).catch(() => false);
}

async function chooseRecord(options: WebLlmEngineOptions, shaderF16: boolean): Promise<{ record: ModelRecordLike; why: string }> {
  if (options.custom !== undefined) return { record: customModelRecord(options.custom), why: 'custom model' };
  const choice = prebuiltModel(options.model, shaderF16);
  const { prebuiltAppConfig } = await import('@mlc-ai/web-llm');
  const prebuilt = prebuiltAppConfig.model_list.find((r) => r.model_id === choice.modelId);
  if (!prebuilt) throw new EngineError(`${choice.modelId} is not in this WebLLM version's prebuilt list`);
  const record = options.weightsBaseUrl ? selfHosted(prebuilt, options.weightsBaseUrl) : prebuilt;
  return { record, why: `${choice.reason}; needs about ${(choice.vramMB / 1024).toFixed(1)} GB of GPU memory` };
}

export interface VerbatimReply {
  text: string;
  stops: readonly string[];
}

/**
 * WebLLM continues a conversation on its KV cache only when the history sent back equals its own record
 * of it exactly (`compareConversationObject`), and it records a reply cut before its stop string. The
 * agent puts the cut `</search>` back (its transcript must be well-formed), so without this every turn
 * re-reads the whole conversation: 1,612 prefilled tokens a question instead of 877 (npm run bench,
 * agent section). So the engine's own last reply is sent back as WebLLM recorded it; the tokens of the
 * closing tag the model generated are in its KV cache already. Any other history goes as it is.
 */
export function withVerbatimReply(messages: ChatMessage[], previous: VerbatimReply | null): ChatMessage[] {
  if (!previous) return messages;
  const index = messages.findLastIndex((m) => m.role === 'assistant');
  const reply = messages[index];
  if (!reply || !previous.stops.some((stop) => reply.content === `${previous.text.trimEnd()}${stop}`)) return messages;
  return messages.map((m, i) => (i === index ? { ...m, content: previous.text } : m));
}

/**
 * WebLLM streams every token's text at once, also text a later token turns into the start of a stop
 * string, and then cuts its own record of the reply (`getMessage()`) before the stop: a `</search>` of
 * three tokens left `</search` in the streamed text. And when the stop and the token limit fall on one
 * token, it reports "length" (0.2.79 and 0.2.86 alike; seen on the real runtime, test/webllm). Its record
 * is the reply: the agent's query ends where the model's did, and the history sent back matches WebLLM's
 * for KV reuse. Any other difference (an abort, a message from another request) keeps what streamed.
 */
export function withStopCut(result: GenerateResult, message: string, stops: readonly string[]): GenerateResult {
  if (message === result.text || !result.text.startsWith(message)) return result;
  const excess = result.text.slice(message.length);
  if (!stops.some((stop) => stop.startsWith(excess) || excess.includes(stop))) return result;
  return { ...result, text: message, finishReason: 'stop' };
}

/** WebLLM reports seconds: time to first token is the prefill, the rest of the request decoding. */
function timingsOf(extra: { time_to_first_token_s: number; e2e_latency_s: number }): Timings {
  const prefillMs = extra.time_to_first_token_s * 1000;
  return { prefillMs, decodeMs: Math.max(0, extra.e2e_latency_s * 1000 - prefillMs) };
}

function toWebLlmRequest(request: GenerateRequest): ChatCompletionRequestStreaming {
  return {
    ...commonChatFields(request),
    stream: true,
    ...(request.grammar && { response_format: { type: 'grammar' as const, grammar: request.grammar } }),
    ...(request.thinking !== undefined && { extra_body: { enable_thinking: request.thinking } }),
  };
}
