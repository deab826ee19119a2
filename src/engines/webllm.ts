/**
 * WebLLM (MLC, WebGPU) in a web worker: the main engine on GPUs. Qwen3 thinking is set per request
 * through `extra_body.enable_thinking`: with `false` WebLLM opens the answer with an empty think block,
 * which the trace parser reads as an empty thought; the agent's own `<think>` steps work either way.
 */
import type { ChatCompletionChunk, ChatCompletionRequestStreaming, MLCEngineInterface } from '@mlc-ai/web-llm';
import {
  EngineError,
  type EngineCapabilities,
  type FinishReason,
  type GenerateRequest,
  type GenerateResult,
  type LlmEngine,
  type LoadProgress,
  type TokenLogprob,
} from '../core/engine.ts';
import { detectGpu } from './webgpu.ts';
import { customModelRecord, prebuiltModel, selfHosted, type ModelRecordLike } from './webllm-models.ts';

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
        initProgressCallback: (p) => report({ fraction: p.progress, text: p.text }),
      });
      return new WebLlmEngine(engine, worker, `WebLLM · ${record.model_id}`);
    } catch (error) {
      worker.terminate();
      throw new EngineError(`could not load ${record.model_id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    request.signal?.throwIfAborted();
    const interrupt = (): void => this.engine.interruptGenerate();
    request.signal?.addEventListener('abort', interrupt, { once: true });
    try {
      const chunks = await this.engine.chat.completions.create(toWebLlmRequest(request));
      const result = new Collected(request.onText);
      for await (const chunk of chunks) result.add(chunk);
      return result.done(request.signal?.aborted ? 'abort' : undefined);
    } finally {
      request.signal?.removeEventListener('abort', interrupt);
    }
  }

  async unload(): Promise<void> {
    await this.engine.unload().catch(() => undefined);
    this.worker.terminate();
  }
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

function toWebLlmRequest(request: GenerateRequest): ChatCompletionRequestStreaming {
  return {
    messages: request.messages,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: request.maxTokens,
    ...(request.temperature !== undefined && { temperature: request.temperature }),
    ...(request.stop?.length && { stop: request.stop }),
    ...(request.grammar && { response_format: { type: 'grammar' as const, grammar: request.grammar } }),
    ...(request.logprobs && { logprobs: true, top_logprobs: request.topLogprobs ?? 0 }),
    ...(request.thinking !== undefined && { extra_body: { enable_thinking: request.thinking } }),
  };
}

class Collected {
  private text = '';
  private finish: FinishReason = 'stop';
  private usage = { promptTokens: 0, completionTokens: 0 };
  private timings: GenerateResult['timings'];
  private readonly logprobs: TokenLogprob[] = [];

  constructor(private readonly onText?: (delta: string) => void) {}

  add(chunk: ChatCompletionChunk): void {
    const choice = chunk.choices[0];
    const delta = choice?.delta.content ?? '';
    if (delta) {
      this.text += delta;
      this.onText?.(delta);
    }
    if (choice?.finish_reason === 'length') this.finish = 'length';
    if (choice?.finish_reason === 'abort') this.finish = 'abort';
    for (const lp of choice?.logprobs?.content ?? []) {
      this.logprobs.push({ token: lp.token, logprob: lp.logprob, top: lp.top_logprobs.map((t) => ({ token: t.token, logprob: t.logprob })) });
    }
    if (chunk.usage) {
      this.usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
      const extra = chunk.usage.extra;
      const prefillMs = extra.time_to_first_token_s * 1000;
      this.timings = { prefillMs, decodeMs: Math.max(0, extra.e2e_latency_s * 1000 - prefillMs) };
    }
  }

  done(override?: FinishReason): GenerateResult {
    return {
      text: this.text,
      finishReason: override ?? this.finish,
      usage: this.usage,
      ...(this.logprobs.length && { logprobs: this.logprobs }),
      ...(this.timings && { timings: this.timings }),
    };
  }
}
