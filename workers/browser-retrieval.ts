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
import { TransformersEmbedder, type TransformersEmbedderOptions } from '../src/embedders/transformers.ts';
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
  const wasmPaths = { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded };
  return UseLiteEmbedder.load(async (name) => {
    const url = new URL(name, request.useLiteUrl).href;
    const response = await fetch(url);
    if (!response.ok) throw new Error(`could not fetch ${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }, wasmPaths);
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
