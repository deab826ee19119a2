/**
 * What a wllama failure means, decided in one place. wllama types what it can (`WllamaError.type`,
 * `WllamaAbortError`, `WllamaRuntimeError` for an aborted wasm module), and those decide. The message is
 * read only where no type says enough: fetch's TypeErrors, wllama's untyped download errors ("Failed to
 * fetch <url>: HTTP 404"), and llama.cpp's own errors, which all arrive as `inference_error`.
 */
import { WllamaAbortError, WllamaError, WllamaRuntimeError, type WllamaErrorType } from '@wllama/wllama/esm/index.js';
import { EngineError } from '../core/agent/engine.ts';
import { errorMessage } from '../core/util/error-message.ts';
import { StorageFullError } from '../storage/quota.ts';
import { unreachableMessage } from './gguf-source.ts';

export type WllamaFailure =
  /** The user's abort, of a download or of a generation. */
  | 'cancelled'
  | 'storage-full'
  /** The connection dropped once the file had started to arrive. */
  | 'cut-off'
  /** The file could not be fetched: an HTTP error, no network, or a server that refuses this page. */
  | 'unreachable'
  | 'context-full'
  /** The engine keeps no usable state (its wasm module aborted, its model is gone): load it again. */
  | 'broken'
  | 'other';

export function classifyWllamaError(error: unknown): WllamaFailure {
  return byType(error) ?? byMessage(errorMessage(error));
}

function byType(error: unknown): WllamaFailure | null {
  if (error instanceof WllamaAbortError || (error instanceof DOMException && error.name === 'AbortError')) return 'cancelled';
  if (error instanceof StorageFullError) return 'storage-full';
  if (error instanceof WllamaRuntimeError || error instanceof WebAssembly.RuntimeError) return 'broken';
  return error instanceof WllamaError ? BY_WLLAMA_TYPE[error.type] : null;
}

/** Null where the type says nothing: wllama's default type, and llama.cpp's errors of any kind. */
const BY_WLLAMA_TYPE: Record<WllamaErrorType, WllamaFailure | null> = {
  kv_cache_full: 'context-full',
  download_error: 'unreachable',
  model_not_loaded: 'broken',
  load_error: 'other',
  inference_error: null,
  unknown_error: null,
};

function byMessage(message: string): WllamaFailure {
  // Emscripten's abort and wasm traps, when they arrive as text.
  if (/\bAborted\(|unreachable|memory access out of bounds/i.test(message)) return 'broken';
  // Chromium's failure to read a body; before any response it says "Failed to fetch".
  if (/network error/i.test(message)) return 'cut-off';
  if (/fetch|HTTP|network/i.test(message)) return 'unreachable';
  // llama.cpp: "the request exceeds the available context size, try increasing it".
  if (/context/i.test(message)) return 'context-full';
  return 'other';
}

/** A failed load in the user's words; `name` is the model file's. */
export function loadError(error: unknown, url: string, name: string): EngineError {
  if (error instanceof EngineError) return error;
  const message = errorMessage(error);
  switch (classifyWllamaError(error)) {
    case 'storage-full':
      return new EngineError(message);
    case 'cancelled':
      return new EngineError('Model download cancelled.');
    case 'cut-off':
    case 'unreachable':
      return new EngineError(unreachableMessage(url, message));
    default:
      return new EngineError(`wllama could not load ${name}: ${message}`);
  }
}

/** A failed generation in the user's words; a broken engine's error is fatal, so the page loads it again. */
export function generateError(error: unknown): EngineError {
  const message = errorMessage(error);
  const failure = classifyWllamaError(error);
  if (failure === 'context-full') {
    return new EngineError(`The conversation no longer fits the model context (${message}); load the model with a larger context size.`, { cause: error });
  }
  return new EngineError(`wllama failed while generating: ${message}`, { fatal: failure === 'broken', cause: error });
}
