/**
 * What a WebLLM failure means, decided in one place. WebLLM names its error classes (`DeviceLostError`,
 * lib/error.d.ts) and the browser its DOMExceptions (`QuotaExceededError`), and the name decides. But
 * WebLLM runs in a worker, whose failures reach us as text, `err.toString()` ("DeviceLostError: The WebGPU
 * device was lost…"): the name is then that text's prefix. The message is read only where no name says
 * enough, as when WebGPU itself reports a lost device in its own words.
 */
import { EngineError } from '../core/agent/engine.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { isQuotaError, storageFull, type EstimateStorage } from '../storage/quota.ts';
import { approxDownloadMB, QWEN3_MODELS } from './webllm-models.ts';

export type WebLlmFailure =
  /** The Cache API could not keep the weights. */
  | 'storage-full'
  /** The GPU device is gone (driver reset, another tab, the OS reclaiming memory): load the model again. */
  | 'device-lost'
  /** A file of the model did not arrive: WebLLM's `cache.add(url)` says only "Request failed". */
  | 'download-failed'
  | 'other';

export function classifyWebLlmError(error: unknown): WebLlmFailure {
  if (isQuotaError(error)) return 'storage-full';
  return BY_NAME.get(errorName(error)) ?? byMessage(errorMessage(error));
}

const BY_NAME = new Map<string, WebLlmFailure>([
  ['QuotaExceededError', 'storage-full'],
  ['NS_ERROR_DOM_QUOTA_REACHED', 'storage-full'],
  ['DeviceLostError', 'device-lost'],
]);

/** An Error's own name, else the name a worker's `err.toString()` put in front of the message. */
function errorName(error: unknown): string {
  if (error instanceof Error && error.name !== 'Error') return error.name;
  return /^(\w+): /.exec(errorMessage(error))?.[1] ?? '';
}

function byMessage(message: string): WebLlmFailure {
  if (/QuotaExceeded|quota (has been )?exceeded/i.test(message)) return 'storage-full';
  if (/device (was |is )?lost|GPUDevice.*lost|DXGI_ERROR_DEVICE|context lost/i.test(message)) return 'device-lost';
  if (/Failed to execute 'add' on 'Cache'|Cannot fetch /.test(message)) return 'download-failed';
  return 'other';
}

/** A failed load in the user's words: a full store says how much the weights need and where to free it. */
export async function loadError(error: unknown, modelId: string, estimate?: EstimateStorage): Promise<EngineError> {
  const failure = classifyWebLlmError(error);
  if (failure === 'download-failed') return new EngineError(`could not load ${modelId}: one of its files could not be downloaded (${errorMessage(error)}). Check that the model URL holds every weight shard its ndarray-cache.json or tensor-cache.json lists, and that its server allows this page (CORS).`, { cause: error });
  if (failure !== 'storage-full') return new EngineError(`could not load ${modelId}: ${errorMessage(error)}`, { cause: error });
  const family = QWEN3_MODELS.find((m) => modelId.startsWith(`${m.family}-`));
  const needed = family ? approxDownloadMB(family.billions, modelId.includes('q4f16') ? 'q4f16_1' : 'q4f32_1') * 1e6 : 0;
  const full = await storageFull(`the weights of ${modelId}`, needed, error, estimate);
  return new EngineError(full.message, { cause: error });
}

/**
 * A lost GPU device leaves WebLLM's pipeline dead: the error is fatal, so the page loads the model again
 * instead of retrying on a dead device. Any other failure is passed on as it came.
 */
export function generateError(error: unknown): unknown {
  if (classifyWebLlmError(error) !== 'device-lost') return error;
  return new EngineError(`the GPU device was lost (${errorMessage(error)}); the model is being loaded again`, { fatal: true, cause: error });
}
