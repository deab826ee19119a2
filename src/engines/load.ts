/**
 * Turns the user's engine settings into a loaded engine. Each engine is imported on demand so the page
 * ships none of them before a model is chosen.
 */
import type { LlmEngine, LoadProgress } from '../core/engine.ts';

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
