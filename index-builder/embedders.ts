/** The embedders the builder can use, by the name a user types, and the one that embeds an index's queries in Node. */
import { resolve } from 'node:path';
import type { Embedder } from '../src/core/agent/embedder.ts';
import type { EmbedderSpec } from '../src/core/index/index-manifest.ts';
import { connectQueryEmbedder, OpenAiEmbedder, openAiSpec, type OpenAiEmbedderOptions } from '../src/embedders/openai.ts';
import { DEFAULT_E5_MODEL, TransformersEmbedder } from '../src/embedders/transformers.ts';
import { USE_LITE_ID, USE_LITE_MODEL } from '../src/embedders/use-lite.ts';
import { loadUseLite } from './use-lite-files.ts';

/** Where a server's API key comes from: the environment, never the command line (shells keep a history). */
export const API_KEY_ENV = 'EMBEDDINGS_API_KEY';

export interface EmbedderChoice {
  kind: 'use-lite' | 'e5' | 'openai' | 'none';
  /** For `e5`: a hub id (default Xenova/e5-small-v2) or a folder name under `modelDir`; for `openai`: the server's model name. */
  model?: string;
  /** For `openai`: the server, its expected dimension, prefixes and requests in flight (the key comes from API_KEY_ENV). */
  server?: Pick<OpenAiEmbedderOptions, 'baseUrl' | 'dimension' | 'queryPrefix' | 'passagePrefix' | 'concurrency' | 'onRetry'>;
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
 * given (nothing is downloaded), else from the hub; the index's server for a server-embedded index. */
export async function loadQueryEmbedder(spec: EmbedderSpec, modelDir?: string): Promise<Embedder> {
  if (spec.kind === 'openai') return connectQueryEmbedder(spec, apiKey());
  const choice = spec.kind === 'use-lite' ? ({ kind: 'use-lite' } as const) : ({ kind: 'e5', model: spec.model, ...(modelDir && { modelDir: resolve(modelDir) }) } as const);
  return (await loadModel(choice)).instance;
}

const apiKey = () => (process.env[API_KEY_ENV] ? { apiKey: process.env[API_KEY_ENV] } : {});

async function loadModel(choice: EmbedderChoice & { kind: 'use-lite' | 'e5' | 'openai' }): Promise<LoadedEmbedder> {
  if (choice.kind === 'openai') {
    if (!choice.server || !choice.model) throw new Error('--embedder openai needs --base-url <server> and --model <name>');
    const options = { ...choice.server, model: choice.model };
    const instance = await OpenAiEmbedder.connect({ ...options, ...apiKey() });
    return { instance, spec: openAiSpec(instance, options) };
  }
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
