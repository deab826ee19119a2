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
 * The checks a load would fail at once (a malformed model or server URL, an invalid custom model),
 * run before the loaded engine is let go: a typo must not cost the user the model they have.
 */
export async function checkEngineSettings(settings: EngineSettings): Promise<void> {
  switch (settings.kind) {
    case 'wllama':
      (await import('./wllama.ts')).validateModelUrl(settings.modelUrl);
      return;
    case 'openai':
      (await import('./openai.ts')).validateBaseUrl(settings.baseUrl);
      return;
    case 'webllm':
      if (settings.custom !== undefined) (await import('./webllm-models.ts')).customModelRecord(settings.custom);
      return;
  }
}
