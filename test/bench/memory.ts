/**
 * Worker memory per 100k passages: a synthetic index (100-word passages resampled from HotpotQA's
 * words, 384-d int8 vectors, BM25) written by the real index builder, then opened from its folder
 * through the checksum-verifying shard and range sources, as the retrieval worker opens it, in a fresh
 * Node process started with --expose-gc, so its deltas hold nothing of the build. Split by part:
 * - vectors: bytes of WebAssembly.Memory the SIMD kernel allocated (outside the JS heap);
 * - open: JS heap growth while opening and answering one hybrid query (the term dictionary's page
 *   lines, the passage table, and what the query fetched: its pages, posting lists and passage blocks;
 *   the vectors are in wasm memory);
 * - passage texts: JS heap growth when every passage block is held (budget lifted), and after trim
 *   (which also drops the lexical pages);
 * - total: RSS growth after all of it, and the process's peak RSS growth.
 * The query embedder's own model is not counted (USE-lite's weights are the same at any index size).
 *
 *   npx tsx test/bench/memory.ts [--passages 100000]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { buildIndex } from '../../index-builder/build.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import type { Embedder } from '../../src/core/agent/embedder.ts';
import { sumBytes, vectorFiles, type EmbedderSpec } from '../../src/core/index/index-manifest.ts';
import { seededRandom } from '../../src/core/agent/noise.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import { normalize } from '../../src/retrieval/vectors.ts';
import { hotpotQuestions } from '../shared-data.ts';

const DIMENSION = 384;
const SPEC: EmbedderSpec = { kind: 'transformers', id: 'synthetic-384', model: 'synthetic', dimension: DIMENSION };
const MB = 1e6;

/** Bytes measured in the fresh process. */
interface Measured {
  passages: number;
  gc: boolean;
  baselineRss: number;
  wasmBytes: number;
  vectorIndexBytes: number;
  lexicalHeap: number;
  /** What the lexical index counts against its budget after the first query. */
  lexicalBytes: number;
  openRss: number;
  passageHeap: number;
  /** What the passage budget counts for every block held: their inflated bytes. */
  passageBudgetBytes: number;
  trimmedHeap: number;
  totalRss: number;
  peakRss: number;
}

export interface MemoryReport {
  passages: number;
  dimension: number;
  /** Whether the measuring process could collect garbage before each reading (else: settled only). */
  gc: boolean;
  /** The index's files on disk. */
  shardMB: { passages: number; lexical: number; vectors: number };
  /** Every figure in MB per 100k passages. */
  per100kMB: {
    vectorsWasm: number;
    /** Heap growth opening the index and answering one query. */
    lexicalHeap: number;
    passageTextsHeap: number;
    passageTextsAfterTrim: number;
    totalRss: number;
    peakRss: number;
  };
  /** JS heap per byte the passage budget counts (inflated block bytes): what the budget costs in heap. */
  passageHeapPerBudgetByte: number;
  /** What the lexical budget counted after the first query, in MB. */
  lexicalBudgetMBAfterOneQuery: number;
  /** The Node process before the index (tsx, modules): not part of the index's cost. */
  baselineRssMB: number;
  buildMs: number;
}

export async function memoryBench(options: { passages: number; log: (line: string) => void }): Promise<MemoryReport> {
  const dir = mkdtempSync(join(tmpdir(), 'sdg-memory-'));
  try {
    options.log(`memory: building a ${options.passages}-passage index (${DIMENSION}-d int8, BM25)…`);
    const started = performance.now();
    const { manifest } = await buildIndex(
      { name: 'memory', source: { kind: 'jsonl', file: 'synthetic', sha256: '0'.repeat(64) }, documents: syntheticPassages(options.passages), chunkWords: 100 },
      { outDir: dir, embedder: { instance: randomEmbedder(1), spec: SPEC }, shardBytes: 2 * 1024 * 1024, cacheDir: join(dir, '.cache'), batchSize: 1024 },
    );
    const buildMs = performance.now() - started;
    options.log('memory: opening it in a fresh process…');
    const m = await measureInChild(dir);
    const { passages, lexical, vectors } = manifest;
    const per100k = (bytes: number) => (bytes / MB) * (100_000 / m.passages);
    return {
      passages: m.passages,
      dimension: DIMENSION,
      gc: m.gc,
      shardMB: { passages: sumBytes([passages.table, ...passages.files]) / MB, lexical: sumBytes([lexical.dictionary, ...lexical.files]) / MB, vectors: sumBytes(vectorFiles(vectors)) / MB },
      per100kMB: {
        vectorsWasm: per100k(m.wasmBytes),
        lexicalHeap: per100k(m.lexicalHeap),
        passageTextsHeap: per100k(m.passageHeap),
        passageTextsAfterTrim: per100k(m.trimmedHeap),
        totalRss: per100k(m.totalRss),
        peakRss: per100k(m.peakRss),
      },
      passageHeapPerBudgetByte: m.passageHeap / m.passageBudgetBytes,
      lexicalBudgetMBAfterOneQuery: m.lexicalBytes / MB,
      baselineRssMB: m.baselineRss / MB,
      buildMs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** 100 words each, drawn from real paragraphs, so BM25's posting lists are as skewed as real text's;
 * generated as the builder pulls them, as a corpus file is read. */
function* syntheticPassages(count: number): Generator<Document> {
  const words = hotpotQuestions(400).flatMap((q) => q.contexts.flatMap((c) => c.paragraph_text.split(/\s+/).filter(Boolean)));
  const random = seededRandom(count);
  const pick = () => words[Math.floor(random() * words.length)] ?? '';
  for (let i = 0; i < count; i++) yield { id: `s${i}`, title: `${pick()} ${pick()} ${i}`, text: Array.from({ length: 100 }, pick).join(' ') };
}

/** Random unit vectors: the memory a vector takes does not depend on what it encodes. */
function randomEmbedder(seed: number): Embedder {
  const random = seededRandom(seed);
  return {
    id: SPEC.id,
    dimension: DIMENSION,
    embed: (texts) => Promise.resolve(texts.map(() => normalize(Float32Array.from({ length: DIMENSION }, () => random() * 2 - 1)))),
    dispose: () => Promise.resolve(),
  };
}

async function measureInChild(dir: string): Promise<Measured> {
  const script = fileURLToPath(import.meta.url);
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', script, '--measure', dir], { maxBuffer: 1024 * 1024 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Measured;
}

/** Collects garbage twice (weak references and finalisers need a second pass) and lets timers run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) {
    globalThis.gc?.();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Every WebAssembly.Memory an instance exports from now on (the SIMD kernel creates its own). */
function watchWasmMemories(): WebAssembly.Memory[] {
  const memories: WebAssembly.Memory[] = [];
  WebAssembly.Instance = new Proxy(WebAssembly.Instance, {
    construct(target, args: [WebAssembly.Module, WebAssembly.Imports?]) {
      const instance = new target(...args);
      for (const value of Object.values(instance.exports)) if (value instanceof WebAssembly.Memory) memories.push(value);
      return instance;
    },
  });
  return memories;
}

/** The child's side: open and query, hold every passage block, trim; bytes at each step. */
async function measure(dir: string): Promise<Measured> {
  const memories = watchWasmMemories();
  const manifest = readManifest(dir);
  await settle();
  const base = process.memoryUsage();
  const index = await openIndexFolder(dir, { embedder: randomEmbedder(2), passageBudgetBytes: Infinity });
  await index.search('the river', { mode: 'hybrid', k: 10 });
  const { lexicalBytes } = index.memory;
  await settle();
  const opened = process.memoryUsage();
  const wasmBytes = memories.reduce((sum, m) => sum + m.buffer.byteLength, 0);
  // Every row is a dense hit at k = all rows, so every block is fetched and held; the hits themselves
  // are garbage before the reading.
  await index.search('every passage', { mode: 'dense', k: manifest.passages.count });
  const passageBudgetBytes = index.memory.passageBytes;
  await settle();
  const loaded = process.memoryUsage();
  index.trim();
  await settle();
  const trimmed = process.memoryUsage();
  return {
    passages: manifest.passages.count,
    gc: typeof globalThis.gc === 'function',
    baselineRss: base.rss,
    wasmBytes,
    vectorIndexBytes: index.memory.vectorBytes,
    lexicalHeap: opened.heapUsed - base.heapUsed,
    lexicalBytes,
    openRss: opened.rss - base.rss,
    passageHeap: loaded.heapUsed - opened.heapUsed,
    passageBudgetBytes,
    trimmedHeap: Math.max(0, trimmed.heapUsed - opened.heapUsed),
    totalRss: loaded.rss - base.rss,
    // maxRSS is in KiB, over the process's life: the peak while opening or loading.
    peakRss: process.resourceUsage().maxRSS * 1024 - base.rss,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { passages: { type: 'string', default: '100000' }, measure: { type: 'string' } } });
  if (values.measure) {
    console.log(JSON.stringify(await measure(values.measure)));
  } else {
    const report = await memoryBench({ passages: Number(values.passages), log: (line) => console.error(line) });
    console.log(JSON.stringify(report, null, 1));
  }
}
