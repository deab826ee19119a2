/**
 * The WebLLM model catalogue: which prebuilt Qwen3 build to load on this GPU, and custom (e.g.
 * always-search fine-tuned) or self-hosted weights. Pure data and validation, so it is testable in Node.
 */
import { z } from 'zod';
import { EngineError } from '../core/agent/engine.ts';
import { checkHttpUrl } from '../core/util/http-url.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { looksLikeWebPage, webPageMessage } from '../core/util/web-page.ts';

/**
 * Prebuilt Qwen3 sizes, smallest first, with what each build needs in GPU memory (WebLLM's list) and
 * the parameter count in billions (Qwen's model cards), from which the download size is estimated.
 */
export const QWEN3_MODELS = [
  { family: 'Qwen3-0.6B', billions: 0.6, vramMB: { q4f16_1: 1403, q4f32_1: 1925 } },
  { family: 'Qwen3-1.7B', billions: 1.7, vramMB: { q4f16_1: 2037, q4f32_1: 2635 } },
  { family: 'Qwen3-4B', billions: 4, vramMB: { q4f16_1: 3432, q4f32_1: 4328 } },
  { family: 'Qwen3-8B', billions: 8, vramMB: { q4f16_1: 5696, q4f32_1: 6853 } },
] as const;

/**
 * An estimate, not a measurement (WebLLM's list gives no file sizes): 4-bit weights with group-32
 * scales are about 4.5 bits a parameter; the f32 build keeps its scales in f32, about 5 bits.
 */
export function approxDownloadMB(billions: number, quantization: Quantization): number {
  const bits = quantization === 'q4f16_1' ? 4.5 : 5;
  return Math.round((billions * 1e9 * bits) / 8 / 1e6);
}

export type Qwen3Family = (typeof QWEN3_MODELS)[number]['family'];
export type Quantization = 'q4f16_1' | 'q4f32_1';

export interface ModelChoice {
  modelId: string;
  quantization: Quantization;
  vramMB: number;
  reason: string;
}

/** f16 weights halve memory traffic but need the `shader-f16` WebGPU feature; without it, f32. */
export function prebuiltModel(family: string, shaderF16: boolean): ModelChoice {
  const entry = QWEN3_MODELS.find((m) => m.family === family);
  if (!entry) throw new EngineError(`unknown model ${family}; choose one of ${QWEN3_MODELS.map((m) => m.family).join(', ')}`);
  const quantization: Quantization = shaderF16 ? 'q4f16_1' : 'q4f32_1';
  return {
    modelId: `${entry.family}-${quantization}-MLC`,
    quantization,
    vramMB: entry.vramMB[quantization],
    reason: shaderF16 ? 'your GPU supports shader-f16, so the smaller f16 build is used' : 'your GPU lacks shader-f16, so the f32 build is used',
  };
}

const httpUrl = z
  .string()
  .trim()
  .refine((s) => checkHttpUrl(s).ok, 'must be an http(s) URL with a valid host name');

export const CustomModel = z.object({
  id: z.string().trim().regex(/^[\w.-]{1,100}$/, 'letters, digits, ".", "_" and "-" only'),
  /** Folder (or Hugging Face repo URL) holding mlc-chat-config.json and the weight shards. */
  modelUrl: httpUrl,
  /** The compiled model library for WebGPU. */
  modelLibUrl: httpUrl.refine((s) => new URL(s).pathname.endsWith('.wasm'), 'must point at a .wasm model library'),
  contextWindow: z.number().int().min(512).max(131_072).default(4096),
});
export type CustomModel = z.infer<typeof CustomModel>;

/** The subset of WebLLM's ModelRecord we write. */
export interface ModelRecordLike {
  model: string;
  model_id: string;
  model_lib: string;
  overrides?: { context_window_size?: number };
  vram_required_MB?: number;
  low_resource_required?: boolean;
}

export function customModelRecord(input: unknown): ModelRecordLike {
  const parsed = CustomModel.safeParse(input);
  if (!parsed.success) throw new EngineError(`custom model: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  const m = parsed.data;
  return { model: m.modelUrl, model_id: m.id, model_lib: m.modelLibUrl, overrides: { context_window_size: m.contextWindow } };
}

/**
 * Points a prebuilt record at self-hosted weights: `${base}/${model_id}/` must mirror the Hugging Face
 * repo, and `${base}/libs/<wasm file>` the model library.
 */
export function selfHosted(record: ModelRecordLike, baseUrl: string): ModelRecordLike {
  const base = httpUrl.safeParse(baseUrl);
  if (!base.success) throw new EngineError(`self-hosted base URL ${baseUrl} ${base.error.issues[0]?.message ?? 'is invalid'}`);
  const root = base.data.replace(/\/+$/, '');
  const lib = record.model_lib.split('/').pop() ?? '';
  return { ...record, model: `${root}/${record.model_id}/`, model_lib: `${root}/libs/${lib}` };
}

/** Where WebLLM reads a model's configuration: a Hugging Face repo URL gains `resolve/main/` as WebLLM adds it. */
export function modelConfigUrl(modelUrl: string): string {
  const folder = modelUrl.endsWith('/') ? modelUrl : `${modelUrl}/`;
  const resolved = /.+\/resolve\/.+\//.test(folder) ? folder : `${folder}resolve/main/`;
  return new URL('mlc-chat-config.json', resolved).href;
}

/** Throws an EngineError unless the model's URL serves its configuration (JSON, not a web page). */
export async function probeModelConfig(modelUrl: string, fetchFile: typeof fetch = fetch): Promise<void> {
  const url = modelConfigUrl(modelUrl);
  let text: string;
  try {
    const response = await fetchFile(url);
    if (!response.ok) throw new EngineError(`Could not fetch the model's configuration ${url}: HTTP ${response.status}. Check the URL.`);
    text = await response.text();
  } catch (error) {
    if (error instanceof EngineError) throw error;
    throw new EngineError(`Could not fetch the model's configuration ${url}: ${errorMessage(error)}. Check the URL, and that its server allows this page (CORS).`);
  }
  if (looksLikeWebPage(text)) throw new EngineError(`${url}: ${webPageMessage('a model configuration')}.`);
  try {
    JSON.parse(text);
  } catch {
    throw new EngineError(`${url} is not a model configuration (not JSON).`);
  }
}
