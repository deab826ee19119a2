/** The embedders the builder can use, by the name a user types, and the one that embeds an index's queries in Node. */
import { resolve } from 'node:path';
import type { Embedder } from '../src/core/agent/embedder.ts';
import type { EmbedderSpec } from '../src/core/index/index-manifest.ts';
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

interface LoadedEmbedder {
  instance: Embedder;
  spec: EmbedderSpec;
}

export async function loadEmbedder(choice: EmbedderChoice): Promise<LoadedEmbedder | null> {
  const { kind } = choice;
  return kind === 'none' ? null : loadModel({ ...choice, kind });
}

/** The embedder that embeds queries for an index built with `spec`: an e5 model from `modelDir` when
 * given (nothing is downloaded), else from the hub. */
export async function loadQueryEmbedder(spec: EmbedderSpec, modelDir?: string): Promise<Embedder> {
  const choice = spec.kind === 'use-lite' ? ({ kind: 'use-lite' } as const) : ({ kind: 'e5', model: spec.model, ...(modelDir && { modelDir: resolve(modelDir) }) } as const);
  return (await loadModel(choice)).instance;
}

async function loadModel(choice: EmbedderChoice & { kind: 'use-lite' | 'e5' }): Promise<LoadedEmbedder> {
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
