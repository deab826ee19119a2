/** The embedders the builder can use, by the name a user types. */
import type { Embedder } from '../src/core/embedder.ts';
import type { EmbedderSpec } from '../src/core/index-manifest.ts';
import { USE_LITE_ID, USE_LITE_MODEL } from '../src/embedders/use-lite.ts';
import { loadUseLite } from './use-lite-files.ts';

export interface EmbedderChoice {
  kind: 'use-lite' | 'none';
}

export async function loadEmbedder(choice: EmbedderChoice): Promise<{ instance: Embedder; spec: EmbedderSpec } | null> {
  if (choice.kind === 'none') return null;
  const instance = await loadUseLite();
  return { instance, spec: { kind: 'use-lite', id: USE_LITE_ID, model: USE_LITE_MODEL, dimension: instance.dimension } };
}
