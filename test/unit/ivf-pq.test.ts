/**
 * The IVF-PQ dense index on a small clustered set, built by the builder's own code and read back through
 * the checksum-verifying range source: its recall against the exact scan, that a query reads only its
 * nprobe lists and the blocks of its candidates, that memory stays under its budgets, and that bad
 * bytes and bad manifests are refused with errors that say what is wrong.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, type BuildOptions } from '../../index-builder/build.ts';
import { denseEncoding, IVF_PQ_MIN_PASSAGES } from '../../index-builder/dense-choice.ts';
import { ivfPqSettings } from '../../index-builder/ivf-pq-builder.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readPassages } from '../../index-builder/sources.ts';
import type { Embedder } from '../../src/core/agent/embedder.ts';
import { seededRandom } from '../../src/core/agent/noise.ts';
import { parseManifest, type IvfPqVectors } from '../../src/core/index/index-manifest.ts';
import { FlatInt8Index } from '../../src/retrieval/flat-index.ts';
import { decodeList, decodeQuantizer, encodeList } from '../../src/retrieval/ivf-pq-format.ts';
import { IvfPqIndex } from '../../src/retrieval/ivf-pq-index.ts';
import { normalize, quantizeInt8 } from '../../src/retrieval/vectors.ts';
import { hotpotQuestions } from '../shared-data.ts';
import { buildIvfPqIn, ClusteredVectors, openIvfPqIn, writeRowShards } from '../dense-fixtures.ts';

const DIMENSION = 64;
const ROWS = 3_000;
const K = 10;

let dir = '';
let spec: IvfPqVectors;
let exact: FlatInt8Index;
let queries: Float32Array[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sdg-ivf-'));
  const source = new ClusteredVectors(DIMENSION, 7, 32, 8);
  const blocks = Array.from({ length: 6 }, () => quantizeInt8(Array.from({ length: ROWS / 6 }, () => source.draw()), DIMENSION));
  exact = new FlatInt8Index(DIMENSION);
  blocks.forEach((block) => exact.add(block));
  spec = buildIvfPqIn(dir, writeRowShards(dir, blocks), DIMENSION, ivfPqSettings(ROWS, DIMENSION));
  queries = Array.from({ length: 40 }, () => source.draw());
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recall(found: readonly (readonly number[])[]): number {
  let hits = 0;
  queries.forEach((query, i) => {
    const truth = new Set(exact.search(query, K).map((hit) => hit.row));
    hits += (found[i] ?? []).filter((row) => truth.has(row)).length;
  });
  return hits / (queries.length * K);
}

describe('IVF-PQ index', () => {
  it('finds nearly all of the exact top 10 while scanning a fraction of the lists', async () => {
    const { index } = await openIvfPqIn(dir, spec);
    expect(spec.nprobe / spec.lists).toBeLessThan(0.3);
    const found = await Promise.all(queries.map(async (q) => (await index.search(q, K)).map((hit) => hit.row)));
    expect(recall(found)).toBeGreaterThanOrEqual(0.97);
    // Scores are the exact inner products of the int8 rows, best first.
    const hits = await index.search(queries[0] as Float32Array, K);
    const best = exact.search(queries[0] as Float32Array, 1)[0];
    expect(hits[0]?.row).toBe(best?.row);
    expect(hits[0]?.score).toBeCloseTo(best?.score ?? 0, 2);
  });

  it('ranks worse without the exact re-rank, and far worse with one list: the bound above means something', async () => {
    const { index } = await openIvfPqIn(dir, spec);
    const codesOnly = await Promise.all(queries.map(async (q) => (await index.search(q, K, { rerank: K })).map((hit) => hit.row)));
    const oneList = await Promise.all(queries.map(async (q) => (await index.search(q, K, { nprobe: 1 })).map((hit) => hit.row)));
    // Measured: 0.68 from the codes alone, 0.87 from one list, against 0.998 with both.
    expect(recall(codesOnly)).toBeLessThan(0.8);
    expect(recall(oneList)).toBeLessThan(0.93);
  });

  it('reads only the nprobe nearest lists and the blocks of its re-ranked candidates', async () => {
    const { index, read } = await openIvfPqIn(dir, spec);
    await index.search(queries[0] as Float32Array, K);
    const listReads = read.ranges.filter((r) => r.startsWith('ivf-lists-'));
    const blockReads = read.ranges.filter((r) => r.startsWith('ivf-rows-'));
    expect(new Set(listReads).size).toBe(spec.nprobe);
    expect(blockReads.length).toBeGreaterThan(0);
    expect(blockReads.length).toBeLessThanOrEqual(spec.rerank);
    expect(read.ranges).toHaveLength(listReads.length + blockReads.length);
    // The same query again reads nothing: its lists and blocks are held.
    const before = read.ranges.length;
    await index.search(queries[0] as Float32Array, K);
    expect(read.ranges).toHaveLength(before);
  });

  it('keeps what it holds under its budgets, and still answers when a list is larger than the budget', async () => {
    const { index, read } = await openIvfPqIn(dir, spec, { listBytes: 20_000, blockBytes: 10_000 });
    const fixed = index.memoryBytes;
    for (const query of queries) await index.search(query, K);
    expect(index.memoryBytes - fixed).toBeLessThanOrEqual(20_000 + 10_000 + 2 * 16_000);
    const reads = read.ranges.length;
    await index.search(queries[0] as Float32Array, K);
    expect(read.ranges.length).toBeGreaterThan(reads);
    expect(index.clear()).toBeGreaterThan(0);
  });

  it('checks, when it fetches every list for an offline copy, that every row is listed exactly once', async () => {
    const { index, read } = await openIvfPqIn(dir, spec);
    await index.fetchAll();
    expect(new Set(read.ranges.filter((r) => r.startsWith('ivf-lists-'))).size).toBe(spec.lists - emptyLists());
  });
});

function emptyLists(): number {
  return decodeQuantizer(readFileSync(join(dir, spec.quantizer.path)), spec, 'q').directory.filter((list) => list.rows === 0).length;
}

describe('IVF-PQ bytes, untrusted', () => {
  it('refuses a list whose bytes were changed on disk, naming the file', async () => {
    const copy = mkdtempSync(join(tmpdir(), 'sdg-ivf-corrupt-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const file = spec.files[0]?.path ?? '';
      const bytes = readFileSync(join(copy, file));
      bytes[0] = (bytes[0] ?? 0) ^ 0xff;
      writeFileSync(join(copy, file), bytes);
      const { index } = await openIvfPqIn(copy, spec);
      await expect(index.fetchAll()).rejects.toThrow(new RegExp(`index file ${file} bytes 0–\\d+ are corrupt`));
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  const quantizer = () => new Uint8Array(readFileSync(join(dir, spec.quantizer.path)));
  const open = (bytes: Uint8Array, other: Partial<IvfPqVectors> = {}) => () => IvfPqIndex.open({ ...spec, ...other }, bytes, () => Promise.reject(new Error('no')), () => Promise.reject(new Error('no')));

  it('refuses a quantizer file that is not one, is cut short, or disagrees with its manifest', () => {
    const bad = quantizer();
    bad[0] = 0;
    expect(open(bad)).toThrow(/quantizer .* is malformed: it does not start with SDGV version 1/);
    expect(open(quantizer().subarray(0, 2_000))).toThrow(/is malformed: it ends early/);
    expect(open(quantizer(), { lists: spec.lists + 1 })).toThrow(/describes \d+ lists .* the manifest \d+/);
    expect(open(quantizer(), { count: ROWS + 1 })).toThrow(/lists 3000 rows, the manifest 3001/);
  });

  it('refuses a list whose rows repeat, pass the index, or disagree with the directory', () => {
    const shape = { rows: 3, subquantizers: 2, rowsPerBlock: 8, passages: 10, rowFiles: 1 };
    const list = (rows: number[]) => encodeList({ rows: Uint32Array.from(rows), codes: new Uint8Array(rows.length * 2), blocks: { file: 0, offset: 0, checksums: ['0'.repeat(16)] } });
    expect(decodeList(list([1, 4, 9]), shape, 'list 0').rows).toEqual(Uint32Array.from([1, 4, 9]));
    expect(() => decodeList(list([1, 12, 13]), shape, 'list 0')).toThrow(/list 0 is malformed: it names row 12 of 10/);
    expect(() => decodeList(list([1, 4]), shape, 'list 0')).toThrow(/holds 2 rows, the directory says 3/);
    const repeated = list([1, 4, 9]);
    repeated[2] = 0; // the second row's gap
    expect(() => decodeList(repeated, shape, 'list 0')).toThrow(/lists a row twice/);
  });

  it('refuses a manifest whose IVF-PQ entry disagrees with itself or the passages', () => {
    const manifest = (vectors: Partial<IvfPqVectors>) => ({
      format: 'sdg-index',
      version: 2,
      name: 'x',
      source: { kind: 'jsonl', file: 'x.jsonl', sha256: 'a'.repeat(64) },
      builder: 'b',
      passages: { count: ROWS, encoding: 'json-gzip-blocks', rowsPerBlock: 64, table: spec.quantizer, files: [spec.quantizer] },
      lexical: { format: 'sdg-bm25', tokenizer: 't', k1: 1.2, b: 0.75, impactScale: 1, terms: 1, dictionary: spec.quantizer, files: [spec.quantizer] },
      vectors: { ...spec, ...vectors },
    });
    expect(parseManifest(manifest({})).vectors?.encoding).toBe('ivf-pq');
    expect(() => parseManifest(manifest({ count: ROWS - 1 }))).toThrow(/the IVF-PQ lists hold 2999 rows, the manifest 3000 passages/);
    expect(() => parseManifest(manifest({ nprobe: spec.lists + 1 }))).toThrow(/nprobe \d+ is more than the \d+ lists/);
    expect(() => parseManifest(manifest({ subquantizers: 65 }))).toThrow(/vectors.subquantizers/);
    expect(() => parseManifest(manifest({ subquantizers: 7 }))).toThrow(/7 sub-quantisers do not divide 64 dimensions/);
    expect(() => parseManifest(manifest({ files: [{ ...spec.quantizer, path: '../escape.bin' }] }))).toThrow(/expected a plain file name/);
  });
});

describe('the builder’s choice of dense index', () => {
  it('keeps the exact flat scan for small indexes and builds IVF-PQ from the size it pays', () => {
    expect(denseEncoding('auto', IVF_PQ_MIN_PASSAGES - 1)).toBe('int8');
    expect(denseEncoding('auto', IVF_PQ_MIN_PASSAGES)).toBe('ivf-pq');
    expect(denseEncoding('ivf-pq', 10)).toBe('ivf-pq');
    expect(denseEncoding('flat', 10_000_000)).toBe('int8');
  });
});

/** A bag of random word vectors: fast, deterministic, and near for texts that share words. */
function wordVectorEmbedder(dimension: number): Embedder {
  const words = new Map<string, Float32Array>();
  const wordVector = (word: string) => {
    let vector = words.get(word);
    if (!vector) {
      const random = seededRandom([...word].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16_777_619) >>> 0, 2_166_136_261));
      vector = Float32Array.from({ length: dimension }, () => random() * 2 - 1);
      words.set(word, vector);
    }
    return vector;
  };
  const embed = (text: string) => {
    const sum = new Float32Array(dimension);
    for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) wordVector(word).forEach((x, i) => (sum[i] = (sum[i] ?? 0) + x));
    return normalize(sum);
  };
  return { id: 'word-vectors', dimension, embed: async (texts) => texts.map(embed), dispose: async () => undefined };
}

describe('an index built with IVF-PQ', () => {
  const embedder = wordVectorEmbedder(64);
  const spec = { kind: 'use-lite' as const, id: embedder.id, model: 'word-vectors', dimension: 64 };
  const questions = hotpotQuestions(30).map((q) => q.question_text);
  let root = '';

  async function build(dense: BuildOptions['dense']): Promise<string> {
    const source = join(root, 'corpus.jsonl');
    writeFileSync(source, hotpotQuestions(30).map((q) => JSON.stringify(q)).join('\n'));
    const { documents } = await readPassages(source);
    const out = join(root, dense ?? 'auto');
    await buildIndex({ name: 'thirty questions', source: { kind: 'jsonl', file: 'corpus.jsonl', sha256: 'a'.repeat(64) }, documents, chunkWords: 100 }, { outDir: out, embedder: { instance: embedder, spec }, shardBytes: 64 * 1024, cacheDir: join(root, '.cache'), dense });
    return out;
  }

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'sdg-ivf-build-'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('opens through the same path as the flat index and answers dense and hybrid search as it does', async () => {
    const [flatDir, ivfDir] = [await build('flat'), await build('ivf-pq')];
    const flat = await openIndexFolder(flatDir, { embedder });
    const ivf = await openIndexFolder(ivfDir, { embedder });
    expect(flat.manifest.vectors?.encoding).toBe('int8');
    expect(ivf.manifest.vectors?.encoding).toBe('ivf-pq');
    // The int8 shards the IVF-PQ index was built from are gone: no manifest names them.
    expect(readdirSync(ivfDir).filter((name) => name.startsWith('vectors-'))).toEqual([]);
    expect(ivf.modes).toEqual(flat.modes);
    expect(ivf.modes).toContain('hybrid');
    let same = 0;
    for (const question of questions) {
      const [a, b] = [await flat.search(question, { mode: 'dense', k: 5 }), await ivf.search(question, { mode: 'dense', k: 5 })];
      same += b.filter((hit) => a.some((other) => other.id === hit.id)).length;
      const hybrid = await ivf.search(question, { mode: 'hybrid', k: 5 });
      expect(hybrid).toHaveLength(5);
      expect(hybrid.every((hit) => hit.text.length > 0)).toBe(true);
    }
    // Measured 0.94: random word vectors have little cluster structure for the lists to follow.
    expect(same / (questions.length * 5)).toBeGreaterThanOrEqual(0.9);
    expect(ivf.memory.vectorBytes).toBeGreaterThan(0);
    expect(ivf.trim()).toBeGreaterThan(0);
  });
});
