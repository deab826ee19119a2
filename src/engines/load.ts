/**
 * Turns the user's engine settings into a loaded engine. Each engine is imported on demand so the page
 * ships none of them before a model is chosen.
 */
import type { LlmEngine } from '../core/agent/engine.ts';
import type { LoadProgress } from '../core/util/load-progress.ts';

export type EngineSettings =
  | { kind: 'webllm'; model: string; custom?: unknown; weightsBaseUrl?: string }
  | { kind: 'wllama'; modelUrl: string }
  | { kind: 'openai'; baseUrl: string; model: string; apiKey?: string };

export async function loadEngine(settings: EngineSettings, onProgress: (progress: LoadProgress) => void): Promise<LlmEngine> {
  switch (settings.kind) {
    case 'wllama': {
      const { WllamaEngine } = await import('./wllama.ts');
      return WllamaEngine.load({ modelUrl: settings.modelUrl, onProgress });
    }
    case 'openai': {
      const { OpenAiEngine } = await import('./openai.ts');
      onProgress({ text: `using the server at ${settings.baseUrl}`, fraction: 1 });
      return new OpenAiEngine(settings);
    }
    case 'webllm': {
      const { WebLlmEngine } = await import('./webllm.ts');
      return WebLlmEngine.load({ ...settings, onProgress });
    }
  }
}

/**
 * The checks a load would fail at once, run before the loaded engine is let go so that a typo, a 404,
 * a web page or an unreachable host does not cost the user the model they have: a malformed URL, an
 * invalid custom model, and (for a model the browser does not store) the model's first bytes or its
 * configuration at the URL.
 */
export async function checkEngineSettings(settings: EngineSettings): Promise<void> {
  switch (settings.kind) {
    case 'wllama':
      await (await import('./wllama.ts')).checkModelSource(settings.modelUrl);
      return;
    case 'openai':
      (await import('./openai.ts')).validateBaseUrl(settings.baseUrl);
      return;
    case 'webllm':
      await (await import('./webllm.ts')).checkWebLlmSource(settings);
      return;
  }
}

/** Whether the model loads from the browser's store alone, without a download. A server is never "stored". */
export async function isEngineStored(settings: EngineSettings): Promise<boolean> {
  try {
    switch (settings.kind) {
      case 'wllama':
        return await (await import('./wllama.ts')).isModelStored(settings.modelUrl);
      case 'webllm':
        return await (await import('./webllm.ts')).isWebLlmStored(settings);
      case 'openai':
        return false;
    }
  } catch {
    return false; // settings a load would refuse: nothing of theirs is stored
  }
}
