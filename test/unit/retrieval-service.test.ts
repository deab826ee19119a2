/**
 * The retrieval service in Node, as the worker and the eval CLI run it: two real indexes built by the
 * builder (BM25 and vectors from a small letter-count embedder), opened from their folders through the
 * Node dependencies, with a cache in memory where the worker has the Cache API.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../index-builder/build.ts';
import { folderDependencies, folderRequest } from '../../index-builder/open-folder.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import type { Embedder } from '../../src/core/agent/embedder.ts';
import { vectorFiles, type EmbedderSpec } from '../../src/core/index/index-manifest.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import type { IndexDependencies, LoadEmbedder } from '../../src/retrieval/open-index.ts';
import { MAX_RANGE_BYTES } from '../../src/retrieval/range-source.ts';
import type { IndexRequest } from '../../src/retrieval/retrieval-protocol.ts';
import { RetrievalService } from '../../src/retrieval/retrieval-service.ts';
import type { ShardCache } from '../../src/retrieval/shard-source.ts';

const DIMENSION = 26;
const SPEC: EmbedderSpec = { kind: 'transformers', id: 'letters-26', model: 'letters', dimension: DIMENSION };
const STALE = 'a newer query replaced this one';
const noProgress = () => undefined;

interface CountedEmbedder extends Embedder {
  disposed: boolean;
}

/** Unit vectors of letter counts: deterministic, and close for texts that share their words. */
function lettersEmbedder(): CountedEmbedder {
  return {
    id: SPEC.id,
    dimension: DIMENSION,
    disposed: false,
    embed: async (texts) => texts.map(letterVector),
    async dispose() {
      this.disposed = true;
    },
  };
}

function letterVector(text: string): Float32Array {
  const counts = Array.from({ length: DIMENSION }, (_, i) => text.toLowerCase().split(String.fromCharCode(97 + i)).length - 1);
  const norm = Math.hypot(...counts) || 1;
  return Float32Array.from(counts, (count) => count / norm);
}

const filler = (topic: string, i: number): Document => ({ id: `${topic}-${i}`, title: `${topic} ${i}`, text: `Notes on ${topic} number ${i}: soil, weather, seasons and the people who keep them.` });
const ORCHARDS: Document[] = [{ id: 'apple', title: 'Apple', text: 'The apple is the fruit of a tree grown in orchards since antiquity.' }, ...Array.from({ length: 300 }, (_, i) => filler('orchards', i))];
const SAVANNAS: Document[] = [{ id: 'zebra', title: 'Zebra', text: 'The zebra is a striped horse of the African savanna.' }, ...Array.from({ length: 300 }, (_, i) => filler('savannas', i))];

let root = '';
let orchards = '';
let savannas = '';

async function build(name: string, documents: Document[]): Promise<string> {
  const outDir = join(root, name);
  await buildIndex({ name, source: { kind: 'jsonl', file: `${name}.jsonl`, sha256: '0'.repeat(64) }, documents, chunkWords: 100 }, { outDir, embedder: { instance: lettersEmbedder(), spec: SPEC }, shardBytes: 512, cacheDir: join(root, `${name}.cache`) });
  return outDir;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sdg-service-'));
  orchards = await build('orchards', ORCHARDS);
  savannas = await build('savannas', SAVANNAS);
});

afterAll(() => root && rmSync(root, { recursive: true, force: true }));

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** Every embedder the service loaded, with the index it was loaded for. */
class Loads {
  readonly loaded: { manifestUrl: string; embedder: CountedEmbedder }[] = [];
  private gate: { manifestUrl: string; entered: () => void; released: Promise<void> } | null = null;

  readonly load: LoadEmbedder<IndexRequest> = async (_spec, request) => {
    const embedder = lettersEmbedder();
    this.loaded.push({ manifestUrl: request.manifestUrl, embedder });
    if (request.manifestUrl === this.gate?.manifestUrl) {
      this.gate.entered();
      await this.gate.released;
    }
    return embedder;
  };

  /** Holds the next open of `dir` in its loader until `release`; `entered` resolves once it is there. */
  block(dir: string): { entered: Promise<void>; release: () => void } {
    const entered = deferred();
    const released = deferred();
    this.gate = { manifestUrl: folderRequest(dir).manifestUrl, entered: entered.resolve, released: released.promise };
    return { entered: entered.promise, release: released.resolve };
  }

  of(dir: string): CountedEmbedder[] {
    return this.loaded.filter((l) => l.manifestUrl === folderRequest(dir).manifestUrl).map((l) => l.embedder);
  }
}

function memoryCache(): ShardCache & { size: number } {
  const entries = new Map<string, Uint8Array>();
  return {
    get size() {
      return entries.size;
    },
    get: async (key) => entries.get(key),
    put: async (key, bytes) => void entries.set(key, bytes),
    delete: async (key) => void entries.delete(key),
  };
}

function serviceWith(loads = new Loads(), overrides: Partial<IndexDependencies<IndexRequest>> = {}): RetrievalService<IndexRequest> {
  return new RetrievalService({ ...folderDependencies(loads.load), ...overrides });
}

const titles = (passages: { title: string }[]) => passages.map((p) => p.title);
const macrotasks = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('the retrieval service', () => {
  it('opens an index and answers from it, lexically and densely', async () => {
    const service = serviceWith();
    await expect(service.search('apple', 'lexical', 3, 1)).rejects.toThrow('no index is open');
    expect(service.stats()).toEqual({ memory: null, fetched: { network: 0, cache: 0 } });
    const info = await service.open(folderRequest(orchards), noProgress);
    expect(info).toMatchObject({ name: 'orchards', passages: ORCHARDS.length, embedder: SPEC.id, denseUnavailable: null });
    expect(info.modes).toContain('dense');
    expect(titles(await service.search('apple tree', 'lexical', 3, 2))[0]).toBe('Apple');
    expect(titles(await service.search('The apple is the fruit of a tree grown in orchards', 'dense', 3, 3))[0]).toBe('Apple');
  });

  it('offers lexical search only, and says why, when the query embedder fails to load', async () => {
    const service = serviceWith(new Loads(), { loadEmbedder: () => Promise.reject(new Error('no model files')) });
    const info = await service.open(folderRequest(orchards), noProgress);
    expect(info).toMatchObject({ modes: ['lexical'], embedder: null, denseUnavailable: `the query embedder (${SPEC.id}) could not be loaded: no model files` });
    expect(titles(await service.search('apple', 'lexical', 1, 1))).toEqual(['Apple']);
  });

  it('lets a newer open supersede one under way, waiting its turn, and searches the newer index', async () => {
    const loads = new Loads();
    const service = serviceWith(loads);
    const blocked = loads.block(orchards);
    const first = service.open(folderRequest(orchards), noProgress);
    await blocked.entered;
    const second = service.open(folderRequest(savannas), noProgress);
    await macrotasks();
    // Queued: two opens at once would load two embedders side by side.
    expect(loads.of(savannas)).toHaveLength(0);
    blocked.release();
    await expect(first).rejects.toThrow('a newer index was opened meanwhile');
    await expect(second).resolves.toMatchObject({ name: 'savannas' });
    expect(loads.of(orchards)[0]?.disposed).toBe(true);
    expect(titles(await service.search('zebra', 'lexical', 3, 1))).toEqual(['Zebra']);
    expect(await service.search('apple', 'lexical', 3, 2)).toEqual([]);
  });

  it('keeps answering from the open index until the next has opened, then frees it', async () => {
    const loads = new Loads();
    const service = serviceWith(loads);
    await service.open(folderRequest(orchards), noProgress);
    const blocked = loads.block(savannas);
    const next = service.open(folderRequest(savannas), noProgress);
    await blocked.entered;
    expect(titles(await service.search('apple', 'lexical', 1, 1))).toEqual(['Apple']);
    expect(loads.of(orchards)[0]?.disposed).toBe(false);
    blocked.release();
    await next;
    expect(loads.of(orchards)[0]?.disposed).toBe(true);
    expect(titles(await service.search('zebra', 'lexical', 1, 2))).toEqual(['Zebra']);
  });

  it('keeps the open index when a newer one fails to open', async () => {
    const broken = join(root, 'broken');
    cpSync(savannas, broken, { recursive: true });
    rmSync(join(broken, readManifest(broken).lexical.dictionary.path));
    const service = serviceWith();
    await service.open(folderRequest(orchards), noProgress);
    await expect(service.open(folderRequest(broken), noProgress)).rejects.toThrow(/could not fetch index shard dictionary-.*HTTP 404/);
    await expect(service.open(folderRequest(join(root, 'nowhere')), noProgress)).rejects.toThrow(/no readable index in .*nowhere/);
    expect(titles(await service.search('apple', 'dense', 1, 1))).toEqual(['Apple']);
  });

  it('reports one bar that only grows, over the manifest, the query embedder and the shards', async () => {
    const loads = new Loads();
    const service = serviceWith(loads, {
      loadEmbedder: async (spec, request, onProgress) => {
        onProgress({ text: 'tokenizer', fraction: 1 });
        onProgress({ text: 'model', fraction: 0.5 });
        return loads.load(spec, request, onProgress);
      },
    });
    const seen: { text: string; fraction?: number }[] = [];
    await service.open(folderRequest(orchards), (progress) => seen.push(progress));
    const fractions = seen.map((p) => p.fraction ?? Number.NaN);
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f, i) => i === 0 || f >= (fractions[i - 1] ?? 0))).toBe(true);
    // The embedder's own restart (a new file at 50 %) did not pull the bar back.
    const embedder = seen.filter((p) => p.text === 'tokenizer' || p.text === 'model').map((p) => p.fraction);
    expect(embedder[0]).toBeGreaterThan(0);
    expect(embedder[1]).toBe(embedder[0]);
    expect(seen.some((p) => p.text.startsWith('index shard') && (p.fraction ?? 0) > (embedder[0] ?? 1))).toBe(true);
  });

  it('caches nothing, and keeps no manifest, for an index that fails to open', async () => {
    const noVectors = join(root, 'no-vectors');
    cpSync(orchards, noVectors, { recursive: true });
    const vectors = vectorFiles(readManifest(noVectors).vectors);
    rmSync(join(noVectors, vectors.at(-1)?.path ?? 'missing'));
    const cache = memoryCache();
    await cache.put('https://example.test/earlier/dictionary.bin', new Uint8Array([1]));
    const kept: string[] = [];
    const service = serviceWith(new Loads(), {
      openCache: async () => cache,
      fetchManifest: async (url) => ({ ...(await folderDependencies().fetchManifest(url)), keep: async () => void kept.push(url) }),
    });
    await expect(service.open(folderRequest(noVectors), noProgress)).rejects.toThrow(/could not fetch index shard vectors-.*HTTP 404/);
    // The dictionary and passage table it had fetched are gone again; what an earlier open cached stays.
    expect(cache.size).toBe(1);
    expect(kept).toEqual([]);
    await service.open(folderRequest(orchards), noProgress);
    expect(cache.size).toBeGreaterThan(1 + vectors.length);
    expect(kept).toEqual([folderRequest(orchards).manifestUrl]);
  });

  it('drops a query overtaken by a newer ticket, and one whose ticket is already old', async () => {
    const service = serviceWith();
    await service.open(folderRequest(orchards), noProgress);
    const [older, newer] = await Promise.allSettled([service.search('apple', 'hybrid', 3, 1), service.search('apple', 'hybrid', 3, 2)]);
    expect(older).toMatchObject({ status: 'rejected', reason: { message: STALE } });
    expect(newer.status === 'fulfilled' && titles(newer.value)[0]).toBe('Apple');
    await expect(service.search('apple', 'lexical', 3, 1)).rejects.toThrow(STALE);
  });

  it('drops the queries before a cancelled ticket and answers the next', async () => {
    const service = serviceWith();
    await service.open(folderRequest(orchards), noProgress);
    const cancelled = service.search('apple', 'dense', 3, 1);
    service.cancel(2);
    await expect(cancelled).rejects.toThrow(STALE);
    expect(titles(await service.search('apple', 'lexical', 1, 3))).toEqual(['Apple']);
  });

  it('counts the bytes it fetched, and after a trim reads them again from the cache', async () => {
    const service = serviceWith(new Loads(), { openCache: async () => memoryCache() });
    await service.open(folderRequest(orchards), noProgress);
    expect(service.stats().fetched).toEqual({ network: 0, cache: 0 });
    const hits = await service.search('apple', 'lexical', 3, 1);
    const { fetched, memory } = service.stats();
    expect(fetched.network).toBeGreaterThan(0);
    expect(fetched.cache).toBe(0);
    expect(memory?.passageBytes).toBeGreaterThan(0);
    expect(service.trim()).toBeGreaterThan(0);
    expect(service.stats().memory).toMatchObject({ passageBlocks: 0, passageBytes: 0, lexicalBytes: 0 });
    expect(await service.search('apple', 'lexical', 3, 2)).toEqual(hits);
    expect(service.stats().fetched).toEqual({ network: fetched.network, cache: fetched.network });
  });

  it('copies a small index whole for offline use, and not one over the bound', async () => {
    const cache = memoryCache();
    const service = serviceWith(new Loads(), { openCache: async () => cache });
    expect(await service.prefetch(noProgress)).toBe(false);
    await service.open(folderRequest(orchards), noProgress);
    const progress: number[] = [];
    expect(await service.prefetch((p) => progress.push(p.fraction ?? NaN))).toBe(true);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((f) => f > 0 && f <= 1)).toBe(true);
    expect(progress.at(-1)).toBe(1);
    const copied = service.stats().fetched.network;
    expect(cache.size).toBeGreaterThan(Math.ceil(ORCHARDS.length / 64));
    await service.search('apple', 'lexical', 3, 1);
    // Everything the query needed was already copied: nothing more from the network.
    expect(service.stats().fetched.network).toBe(copied);

    const huge = serviceWith(new Loads(), { fetchManifest: async (url) => ({ json: inflated((await folderDependencies().fetchManifest(url)).json) }) });
    await huge.open(folderRequest(orchards), noProgress);
    expect(await huge.prefetch(noProgress)).toBe(false);
    expect(huge.stats().fetched.network).toBe(0);
  });

  it('frees its embedder on close', async () => {
    const loads = new Loads();
    const service = serviceWith(loads);
    await service.open(folderRequest(orchards), noProgress);
    await service.close();
    expect(loads.of(orchards)[0]?.disposed).toBe(true);
    await expect(service.search('apple', 'lexical', 1, 1)).rejects.toThrow('no index is open');
  });
});

/** The manifest with every passage and lexical file claimed as large as a file may be: together over
 * the bound of a whole offline copy. */
function inflated(json: unknown): unknown {
  const manifest = json as { passages: { files: object[] }; lexical: { files: object[] } };
  const huge = (files: object[]) => files.map((file) => ({ ...file, bytes: MAX_RANGE_BYTES }));
  return { ...manifest, passages: { ...manifest.passages, files: huge(manifest.passages.files) }, lexical: { ...manifest.lexical, files: huge(manifest.lexical.files) } };
}
