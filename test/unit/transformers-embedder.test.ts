/**
 * The real TransformersEmbedder on ONNX Runtime (Node), running the tiny BERT encoder the project
 * writes itself (test/tools/make-tiny-bert.mjs): no hub, but a real tokeniser, prefixes, batching,
 * attention mask, pooling and normalisation.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransformersEmbedder, validateRemoteHost, type TransformersEmbedderOptions } from '../../src/embedders/transformers.ts';
import { ensureTinyBert } from '../tools/make-tiny-bert.mjs';

let modelDir = '';
let local: Pick<TransformersEmbedderOptions, 'model' | 'localModelPath' | 'allowRemote'>;
let embedder: TransformersEmbedder;
/** The same model with no prefixes, to see exactly which prefix the default one adds. */
let bare: TransformersEmbedder;
/** The raw pipeline, for the per-token states the embedder pools. */
let tokens: FeatureExtractionPipeline;
const scratch = mkdtempSync(join(tmpdir(), 'transformers-embedder-'));

beforeAll(async () => {
  modelDir = ensureTinyBert();
  local = { model: basename(modelDir), localModelPath: `${dirname(modelDir)}/`, allowRemote: false };
  embedder = await TransformersEmbedder.load(local);
  bare = await TransformersEmbedder.load({ ...local, queryPrefix: '', passagePrefix: '' });
  // transformers.js reads the model folder from the global env the loads above configured.
  tokens = await pipeline('feature-extraction', local.model, { dtype: 'fp32' });
});

afterAll(async () => {
  await embedder?.dispose();
  await bare?.dispose();
  await tokens?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

const norm = (v: Float32Array) => Math.hypot(...v);
const maxDifference = (a: Float32Array | undefined, b: Float32Array | undefined) => {
  if (!a || !b || a.length !== b.length) return Infinity;
  return Math.max(...a.map((x, i) => Math.abs(x - (b[i] ?? NaN))));
};
/** Batches pad to their longest text, so a vector may differ from the unbatched one by rounding only. */
const SAME = 1e-5;

describe('the transformers.js embedder', () => {
  it('names itself by model and returns one unit-length vector of the model output size per text, in order', async () => {
    expect(embedder.id).toBe('transformers:tiny-bert');
    expect(embedder.dimension).toBe(32);
    // 20 texts of different lengths: two batches (16 + 4), each padded.
    const texts = Array.from({ length: 20 }, (_, i) => `the film ${'was directed by a man in london '.repeat(i % 4)}in ${1990 + i}`);
    const vectors = await embedder.embed(texts, 'passage');
    expect(vectors).toHaveLength(20);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(32);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    for (const i of [0, 5, 17, 19]) expect(maxDifference(vectors[i], (await embedder.embed([texts[i] ?? ''], 'passage'))[0])).toBeLessThan(SAME);
    expect(await embedder.embed([], 'query')).toEqual([]);
  });

  it('prefixes queries with "query: " and passages with "passage: "', async () => {
    const text = 'who directed the film';
    const [query] = await embedder.embed([text], 'query');
    const [passage] = await embedder.embed([text], 'passage');
    expect(maxDifference(query, passage)).toBeGreaterThan(1e-3);
    expect(maxDifference(query, (await bare.embed([`query: ${text}`], 'passage'))[0])).toBeLessThan(SAME);
    expect(maxDifference(passage, (await bare.embed([`passage: ${text}`], 'query'))[0])).toBeLessThan(SAME);
  });

  it('averages the per-token states of the prefixed text, then scales to unit length', async () => {
    const states = await tokens(['query: who directed the film']);
    const [, sequence = 0, hidden = 0] = states.dims;
    const data = states.data as Float32Array; // fp32 model
    const mean = new Float32Array(hidden).map((_, d) => Array.from({ length: sequence }, (_, t) => data[t * hidden + d] ?? NaN).reduce((a, b) => a + b) / sequence);
    const expected = mean.map((x) => x / norm(mean));
    expect(maxDifference((await embedder.embed(['who directed the film'], 'query'))[0], expected)).toBeLessThan(SAME);
  });

  it('gives the same text the same vector and different texts different ones', async () => {
    const [first, other] = await embedder.embed(['which river flows through the city', 'which river flows through the town'], 'query');
    const [again] = await embedder.embed(['which river flows through the city'], 'query');
    expect(maxDifference(first, again)).toBeLessThan(SAME);
    expect(maxDifference(first, other)).toBeGreaterThan(1e-3);
  });

  it('names the model and the missing file when a model folder is absent or incomplete', async () => {
    const missing = TransformersEmbedder.load({ ...local, model: 'no-such-model' });
    await expect(missing).rejects.toThrow(/^could not load the embedding model no-such-model: missing file \S*\/no-such-model\/config\.json \(downloads are off\)$/);

    const incomplete = join(scratch, 'no-weights');
    mkdirSync(incomplete);
    for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(modelDir, file), join(incomplete, file));
    const noWeights = TransformersEmbedder.load({ model: 'no-weights', localModelPath: `${scratch}/`, allowRemote: false });
    await expect(noWeights).rejects.toThrow(/^could not load the embedding model no-weights: missing file \S*\/no-weights\/onnx\/model\.onnx/);
  });

  it('names the file a model mirror does not have, and a mirror it cannot reach', async () => {
    const server: Server = createServer((_, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const load = TransformersEmbedder.load({ model: 'org/absent', remoteHost: `http://127.0.0.1:${port}/mirror`, remotePathTemplate: '{model}/' });
      await expect(load).rejects.toThrow(`could not load the embedding model org/absent: missing file http://127.0.0.1:${port}/mirror/org/absent/config.json`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    // The port is free again: the connection is refused.
    const unreachable = TransformersEmbedder.load({ model: 'org/absent', remoteHost: `http://127.0.0.1:${port}/` });
    await expect(unreachable).rejects.toThrow(`could not load the embedding model org/absent: could not reach http://127.0.0.1:${port}/: connect ECONNREFUSED`);
  });

  it('refuses a model host that is not an http(s) URL', async () => {
    await expect(TransformersEmbedder.load({ model: 'org/model', remoteHost: 'ftp://mirror.example.org/models' })).rejects.toThrow('The model host must start with http:// or https://, not ftp: ("ftp://mirror.example.org/models").');
    await expect(TransformersEmbedder.load({ model: 'org/model', remoteHost: 'mirror.example.org' })).rejects.toThrow('The model host "mirror.example.org" is not a URL: give one like https://mirror.example.org/.');
    expect(() => validateRemoteHost('https://user:secret@mirror.example.org/')).toThrow('must not contain a user name or password');
    expect(validateRemoteHost('https://mirror.example.org/hf')).toBe('https://mirror.example.org/hf/');
  });
});
