/** The embedders the builder can use, by the name a user types. */
import type { Embedder } from '../src/core/embedder.ts';
import type { EmbedderSpec } from '../src/core/index-manifest.ts';
import { DEFAULT_E5_MODEL, TransformersEmbedder } from '../src/embedders/transformers.ts';
import { USE_LITE_ID, USE_LITE_MODEL } from '../src/embedders/use-lite.ts';
import { loadUseLite } from './use-lite-files.ts';

export interface EmbedderChoice {
  kind: 'use-lite' | 'e5' | 'none';
  /** For `e5`: a hub id (default Xenova/e5-small-v2) or a folder name under `modelDir`. */
  model?: string;
  /** For `e5`: a mirror of the hub. */
  remoteHost?: string;
  /** For `e5`: a local folder holding `<model>/config.json`, …; then nothing is downloaded. */
  modelDir?: string;
}

export async function loadEmbedder(choice: EmbedderChoice): Promise<{ instance: Embedder; spec: EmbedderSpec } | null> {
  if (choice.kind === 'none') return null;
  if (choice.kind === 'use-lite') {
    const instance = await loadUseLite();
    return { instance, spec: { kind: 'use-lite', id: USE_LITE_ID, model: USE_LITE_MODEL, dimension: instance.dimension } };
  }
  const model = choice.model ?? DEFAULT_E5_MODEL;
  const instance = await TransformersEmbedder.load({
    model,
    allowRemote: choice.modelDir === undefined,
    dtype: 'fp32',
    ...(choice.remoteHost && { remoteHost: choice.remoteHost }),
    ...(choice.modelDir && { localModelPath: choice.modelDir.endsWith('/') ? choice.modelDir : `${choice.modelDir}/` }),
  });
  return { instance, spec: { kind: 'transformers', id: instance.id, model, dimension: instance.dimension } };
}
