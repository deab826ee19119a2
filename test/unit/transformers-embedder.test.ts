/**
 * The real TransformersEmbedder on ONNX Runtime (Node), running the tiny BERT-shaped model the project
 * writes itself: no hub, but real tokeniser, prefixes, batching, pooling and normalisation.
 */
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransformersEmbedder, validateRemoteHost } from '../../src/embedders/transformers.ts';
import { ensureTinyBert } from '../tools/make-tiny-bert.mjs';

let embedder: TransformersEmbedder;
let dir = '';

beforeAll(async () => {
  dir = ensureTinyBert();
  embedder = await TransformersEmbedder.load({ model: basename(dir), localModelPath: `${dirname(dir)}/`, allowRemote: false, dtype: 'fp32' });
});

afterAll(() => embedder?.dispose());

const norm = (v: Float32Array) => Math.hypot(...v);
const same = (a?: Float32Array, b?: Float32Array) => !!a && !!b && a.every((x, i) => Math.abs(x - (b[i] ?? NaN)) < 1e-6);

describe('the transformers.js embedder', () => {
  it('names itself by model and returns one unit-length vector of its dimension per text, in order', async () => {
    expect(embedder.id).toBe('transformers:tiny-bert');
    expect(embedder.dimension).toBe(32);
    const texts = Array.from({ length: 20 }, (_, i) => `the film ${'was directed by a man in london '.repeat(i % 4)} ${i}`);
    const vectors = await embedder.embed(texts, 'passage');
    expect(vectors).toHaveLength(20);
    for (const v of vectors) {
      expect(v.length).toBe(32);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    // Batches of 16 + 4, padded differently, give the same vector as one text alone.
    expect(same(vectors[17], (await embedder.embed([texts[17] ?? ''], 'passage'))[0])).toBe(true);
  });

  it('prefixes queries and passages differently, and separates different texts', async () => {
    const [query] = await embedder.embed(['who directed the film'], 'query');
    const [passage] = await embedder.embed(['who directed the film'], 'passage');
    const [other] = await embedder.embed(['which river flows through the city'], 'query');
    expect(same(query, passage)).toBe(false);
    expect(same(query, other)).toBe(false);
    expect(same(query, (await embedder.embed(['who directed the film'], 'query'))[0])).toBe(true);
  });

  it('names the model when its files are missing', async () => {
    await expect(TransformersEmbedder.load({ model: 'no-such-model', localModelPath: `${dirname(dir)}/`, allowRemote: false })).rejects.toThrow('could not load the embedding model no-such-model');
  });

  it('accepts only http(s) model hosts', () => {
    expect(validateRemoteHost('https://models.example.org/hf')).toBe('https://models.example.org/hf/');
    expect(() => validateRemoteHost('file:///etc/passwd')).toThrow('must be an http(s) URL');
    expect(() => validateRemoteHost('not a url')).toThrow('is not a URL');
  });
});
