import { WllamaAbortError, WllamaError, WllamaRuntimeError } from '@wllama/wllama/esm/index.js';
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../src/core/agent/engine.ts';
import { classifyWllamaError, generateError, loadError } from '../../src/engines/wllama-failure.ts';
import { StorageFullError } from '../../src/storage/quota.ts';

const URL = 'https://models.example.org/q/tiny.gguf';
const load = (error: unknown) => loadError(error, URL, 'tiny.gguf').message;

describe('wllama failures while generating', () => {
  it('an aborted wasm module makes the page load the model again, whatever its message says', () => {
    // How wllama's proxy reports its worker's abort; the message names the context, yet this is no overflow.
    const abort = generateError(new WllamaRuntimeError('(ABORT) Aborted(llama_context: failed to allocate compute buffers)', ''));
    expect(abort).toMatchObject({ fatal: true, message: 'wllama failed while generating: (ABORT) Aborted(llama_context: failed to allocate compute buffers)' });
    expect(generateError(new WllamaError('loadModel() is not yet called', 'model_not_loaded')).fatal).toBe(true);
    expect(generateError(new WebAssembly.RuntimeError('unreachable')).fatal).toBe(true);
  });

  it('a conversation too long for the context says to load a larger one, and keeps the engine', () => {
    // llama.cpp's own words come as an inference_error: only the message tells.
    for (const error of [new WllamaError('kv cache is full', 'kv_cache_full'), new WllamaError('the request exceeds the available context size, try increasing it', 'inference_error')]) {
      const failure = generateError(error);
      expect(failure.fatal).toBe(false);
      expect(failure.message).toBe(`The conversation no longer fits the model context (${error.message}); load the model with a larger context size.`);
    }
  });

  it('any other failure keeps the engine, and a cancel is not a failure', () => {
    expect(generateError(new WllamaError('Failed to parse model output', 'inference_error'))).toMatchObject({ fatal: false, message: 'wllama failed while generating: Failed to parse model output' });
    expect(classifyWllamaError(new WllamaAbortError())).toBe('cancelled');
  });
});

describe('wllama failures while loading', () => {
  it('a file that cannot be fetched names the URL and the likely causes', () => {
    const causes = '. Check the URL, and that its server allows this page (CORS).';
    expect(load(new Error(`Failed to fetch ${URL}: HTTP 404`))).toBe(`Could not download ${URL}: Failed to fetch ${URL}: HTTP 404${causes}`);
    expect(load(new TypeError('Failed to fetch'))).toBe(`Could not download ${URL}: Failed to fetch${causes}`);
    expect(load(new WllamaError(`Invalid model URL: ${URL}.bin; URL must ends with ".gguf"`, 'download_error'))).toMatch(/^Could not download /);
  });

  it('a cancelled download, a full store and a file llama.cpp cannot load each say so', () => {
    expect(load(new DOMException('signal is aborted without reason', 'AbortError'))).toBe('Model download cancelled.');
    expect(load(new StorageFullError('the model tiny.gguf', 600e6, 100e6))).toBe('not enough storage to keep the model tiny.gguf: 600 MB needed, 100 MB free; delete an index or a model under Storage, then try again');
    const gone = new WllamaError('Model is deleted from the cache; Call ModelManager.downloadModel to re-download the model', 'load_error');
    expect(load(gone)).toBe(`wllama could not load tiny.gguf: ${gone.message}`);
    const worded = new EngineError('tiny.gguf is not a GGUF file (it starts with "<!do").');
    expect(loadError(worded, URL, 'tiny.gguf')).toBe(worded);
  });

  it('tells a connection cut mid-file from one that never started', () => {
    // Chromium's words: "network error" once the body is arriving, "Failed to fetch" before any response.
    expect(classifyWllamaError(new TypeError('network error'))).toBe('cut-off');
    expect(classifyWllamaError(new TypeError('Failed to fetch'))).toBe('unreachable');
  });
});
