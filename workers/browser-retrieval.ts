/**
 * The retrieval service's dependencies in the browser: the manifest network first (then the copy in the
 * Cache API), shards and ranges kept in the Cache API, and the query embedders on wasm, their runtimes
 * served from the app's own assets.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
// onnxruntime-web's runtime for transformers.js embedders, emitted as our own assets (else: a CDN).
import ortRuntime from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { Embedder } from '../src/core/agent/embedder.ts';
import type { EmbedderSpec } from '../src/core/index/index-manifest.ts';
import { connectQueryEmbedder, type OpenAiEmbedderSpec } from '../src/embedders/openai.ts';
import { TransformersEmbedder, type TransformersEmbedderOptions } from '../src/embedders/transformers.ts';
import { allowedByAll, policyOrigin } from '../src/core/util/connect-policy.ts';
import { UseLiteEmbedder } from '../src/embedders/use-lite.ts';
import { fetchNetworkFirst, openShardCache } from '../src/retrieval/cache-storage.ts';
import type { FetchedManifest, IndexDependencies } from '../src/retrieval/open-index.ts';
import type { OpenRequest } from '../src/retrieval/retrieval-protocol.ts';
import { filesProgress, type LoadProgress } from '../src/core/util/load-progress.ts';
import { parseJsonDocument } from '../src/core/util/web-page.ts';

const MANIFEST_MAX_BYTES = 1_000_000;

export const browserDependencies: IndexDependencies<OpenRequest> = {
  fetchManifest: (url) => fetchJson(url, MANIFEST_MAX_BYTES),
  openCache: () => openShardCache(),
  fetch: globalThis.fetch.bind(globalThis),
  loadEmbedder,
};

async function fetchJson(url: string, maxBytes: number): Promise<FetchedManifest> {
  // Offline, the copy kept beside the shards: the manifest is what makes them reachable.
  const { response, keep } = await fetchNetworkFirst(url);
  if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > maxBytes) throw new Error(`${url} is larger than ${maxBytes} bytes`);
  return { json: parseJsonDocument(text, url, 'an index manifest'), keep };
}

async function loadEmbedder(spec: EmbedderSpec, request: OpenRequest, onProgress: (progress: LoadProgress) => void): Promise<Embedder> {
  if (spec.kind === 'transformers') return loadTransformers(spec, request, onProgress);
  if (spec.kind === 'openai') return loadServerEmbedder(spec, request);
  const wasmPaths = { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded };
  return UseLiteEmbedder.load(async (name) => {
    const url = new URL(name, request.useLiteUrl).href;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }, wasmPaths);
}

/**
 * The index's embedding server, if the page may connect to it: the user's queries go there, so only a
 * host the user allowed (as for a model's host) is asked. No API key: the page never stores one.
 */
function loadServerEmbedder(spec: OpenAiEmbedderSpec, request: OpenRequest): Promise<Embedder> {
  if (!allowedByAll(request.connectPolicies ?? [], spec.baseUrl, self.location.href)) {
    const host = policyOrigin(spec.baseUrl) ?? spec.baseUrl;
    return Promise.reject(new Error(`this index embeds its queries at ${host}, which the page's security policy does not allow yet: allow ${host} and reload to search densely`));
  }
  return connectQueryEmbedder(spec);
}

/** fp32, as the builder embeds passages: quantised query vectors would drift from the passages'. */
function loadTransformers(spec: EmbedderSpec, request: OpenRequest, onProgress: (progress: LoadProgress) => void): Promise<Embedder> {
  const files = filesProgress(onProgress);
  return TransformersEmbedder.load({
    model: spec.model,
    dtype: 'fp32',
    ...modelSource(request.embeddingModelsUrl),
    wasmPaths: { mjs: new URL(ortRuntime, self.location.href).href, wasm: new URL(ortWasm, self.location.href).href },
    onProgress: ({ text, file, loaded, total }) => files(text, file ?? text, loaded ?? 0, total ?? 0),
  });
}

/**
 * The hub, or a self-hosted folder of `{model}/…` files. A same-origin folder is given to
 * transformers.js as a path: it probes local models for a tokenizer only when their path is not a
 * full URL, and would silently load none.
 */
function modelSource(url?: string): Pick<TransformersEmbedderOptions, 'allowRemote' | 'localModelPath' | 'remoteHost' | 'remotePathTemplate'> {
  if (!url) return { allowRemote: true };
  const folder = new URL(url);
  if (folder.origin === self.location.origin) return { allowRemote: false, localModelPath: folder.pathname };
  return { allowRemote: true, remoteHost: folder.href, remotePathTemplate: '{model}/' };
}
