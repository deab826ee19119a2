/**
 * Retrieval on the demo index, as the app runs it: recall@5 of the gold paragraphs for each mode on the
 * shared HotpotQA questions, query latency, bytes per passage, and the build's cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildIndex, embeddingCachePath, embeddingText, type BuildInput } from '../../index-builder/build.ts';
import { EmbeddingCache } from '../../index-builder/embedding-cache.ts';
import { FlatFloat32Index } from './dense-scale.ts';
import { loadEmbedder } from '../../index-builder/embedders.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { readPassages } from '../../index-builder/sources.ts';
import type { Embedder } from '../../src/core/agent/embedder.ts';
import { sumBytes, vectorFiles, type IndexManifest, type ShardFile } from '../../src/core/index/index-manifest.ts';
import { RETRIEVAL_MODES } from '../../src/retrieval/sharded-index.ts';
import { hotpotQuestions, HOTPOT_PATH } from '../shared-data.ts';
import { percentile } from '../../src/core/eval/stats.ts';

export interface QualityRow {
  mode: string;
  questions: number;
  /** Mean share of a question's gold paragraphs found in the top 5. */
  recallAt5: number;
  /** Share of questions with at least one gold paragraph in the top 5. */
  anyGoldAt5: number;
  p50Ms: number;
  p95Ms: number;
}

export interface QualityReport {
  passages: number;
  bytesPerPassage: { text: number; lexical: number; vectors: number; total: number };
  embedPassagesPerSecond: number;
  buildWarmCacheMs: number;
  rows: QualityRow[];
}

/** Queries are embedded once and reused by the dense and hybrid runs. */
function memoized(embedder: Embedder): Embedder {
  const memo = new Map<string, Float32Array>();
  return {
    id: embedder.id,
    dimension: embedder.dimension,
    dispose: () => embedder.dispose(),
    async embed(texts, kind) {
      const missing = texts.filter((t) => !memo.has(t));
      const vectors = await embedder.embed(missing, kind);
      missing.forEach((t, i) => memo.set(t, vectors[i] ?? new Float32Array(0)));
      return texts.map((t) => memo.get(t) ?? new Float32Array(0));
    },
  };
}

export async function retrievalQuality(indexDir: string, questionCount: number, log: (line: string) => void): Promise<QualityReport> {
  const manifest = readManifest(indexDir);
  const loaded = await loadEmbedder({ kind: 'use-lite' });
  if (!loaded) throw new Error('no embedder');
  try {
    const embedder = memoized(loaded.instance);
    const index = await openIndexFolder(resolve(indexDir), { embedder });
    const questions = hotpotQuestions(questionCount);
    const rows: QualityRow[] = [];
    for (const mode of RETRIEVAL_MODES) {
      log(`recall@5, ${mode}: ${questions.length} questions…`);
      // The first query of a mode pays for the first dictionary pages and passage blocks; it is not a query's cost.
      await index.search(questions[0]?.question_text ?? 'warm up', { mode, k: 5 });
      rows.push(await score(mode, questions, async (q) => (await index.search(q, { mode, k: 5 })).map((h) => h.title)));
    }
    const float32 = await float32Reference(manifest, embedder);
    if (float32) rows.push(await score('dense, float32 vectors', questions, float32));
    return { passages: manifest.passages.count, bytesPerPassage: bytesPerPassage(manifest), embedPassagesPerSecond: await embedThroughput(loaded.instance), buildWarmCacheMs: await warmBuild(loaded), rows };
  } finally {
    await loaded.instance.dispose();
  }
}

/** The same dense search over the unquantised vectors the builder cached: what int8 storage costs. */
async function float32Reference(manifest: IndexManifest, embedder: Embedder): Promise<((question: string) => Promise<string[]>) | null> {
  const spec = manifest.vectors?.embedder;
  if (!spec) return null;
  const { documents } = await readPassages(HOTPOT_PATH);
  const cache = EmbeddingCache.open(embeddingCachePath(resolve('.cache/index-builder'), spec), spec.id, spec.dimension);
  const vectors = documents.map((d) => cache.get(embeddingText(d)));
  if (documents.length !== manifest.passages.count || vectors.some((v) => !v)) return null;
  const flat = new Float32Array(documents.length * spec.dimension);
  vectors.forEach((v, row) => flat.set(v ?? [], row * spec.dimension));
  const index = new FlatFloat32Index(flat, spec.dimension);
  return async (question) => {
    const [query] = await embedder.embed([question], 'query');
    return index.search(query ?? new Float32Array(spec.dimension), 5).map(({ row }) => documents[row]?.title ?? '');
  };
}

async function score(mode: string, questions: ReturnType<typeof hotpotQuestions>, search: (question: string) => Promise<string[]>): Promise<QualityRow> {
  let recall = 0;
  let any = 0;
  const latencies: number[] = [];
  for (const q of questions) {
    const gold = new Set(q.contexts.filter((c) => c.is_supporting).map((c) => c.title));
    const started = performance.now();
    const titles = await search(q.question_text);
    latencies.push(performance.now() - started);
    const found = new Set(titles.filter((t) => gold.has(t)));
    recall += found.size / Math.max(1, gold.size);
    if (found.size > 0) any++;
  }
  const n = questions.length;
  return { mode, questions: n, recallAt5: recall / n, anyGoldAt5: any / n, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95) };
}

function bytesPerPassage(manifest: IndexManifest): QualityReport['bytesPerPassage'] {
  const { passages, lexical: bm25, vectors: dense } = manifest;
  const perPassage = (files: readonly ShardFile[]) => sumBytes(files) / passages.count;
  const text = perPassage([passages.table, ...passages.files]);
  const lexical = perPassage([bm25.dictionary, ...bm25.files]);
  const vectors = perPassage(vectorFiles(dense));
  return { text, lexical, vectors, total: text + lexical + vectors };
}

async function embedThroughput(embedder: Embedder): Promise<number> {
  const { documents } = await readPassages(HOTPOT_PATH);
  const sample = documents.slice(0, 64).map((d) => `${d.title}\n${d.text}`);
  const started = performance.now();
  for (let i = 0; i < sample.length; i += 16) await embedder.embed(sample.slice(i, i + 16), 'passage');
  return sample.length / ((performance.now() - started) / 1000);
}

/** Shards, lexical index and manifest from embeddings already in the resume cache. */
async function warmBuild(embedder: NonNullable<Awaited<ReturnType<typeof loadEmbedder>>>): Promise<number> {
  const { documents } = await readPassages(HOTPOT_PATH);
  const input: BuildInput = { name: 'bench', source: { kind: 'jsonl', file: 'bench', sha256: '0'.repeat(64) }, documents, chunkWords: 100 };
  const out = mkdtempSync(join(tmpdir(), 'sdg-bench-'));
  try {
    const started = performance.now();
    await buildIndex(input, { outDir: out, embedder, shardBytes: 2 * 1024 * 1024, cacheDir: resolve('.cache/index-builder') });
    return performance.now() - started;
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
