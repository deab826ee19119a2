/**
 * BM25 at scale on synthetic passages: 100 words each, drawn from the word frequencies of the real
 * HotpotQA paragraphs, so posting lists are as skewed as real text's. Each size is written by the real
 * index builder (lexical only) and opened from its folder as the search CLI opens an index; a query is
 * a lexical top-10 with its hits' texts, the dictionary pages, posting lists and passage blocks it needs
 * read from disk by range the first time. Queries are eight words of a random passage, the corpus's 100
 * most frequent words left out, like a small model's keyword query.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex } from '../../index-builder/build.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { sumBytes } from '../../src/core/index/index-manifest.ts';
import { seededRandom } from '../../src/core/agent/noise.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import { percentile } from '../../src/core/eval/stats.ts';

export interface LexicalScaleRow {
  passages: number;
  /** The whole build: passage blocks, lexical runs and their merge, manifest. */
  buildMs: number;
  /** The lexical files (dictionary and posting lists) per passage. */
  bytesPerPassage: number;
  p50Ms: number;
  p95Ms: number;
  /** Dictionary pages and posting lists held after the queries (bounded by the lexical budget). */
  heldMB: number;
}

export interface LexicalScaleOptions {
  sizes: readonly number[];
  queries: number;
  /** Real texts whose words are resampled. */
  corpus: readonly string[];
  /** A size whose build, extrapolated from the last one, would pass this is skipped (row of NaN). */
  buildBudgetMs: number;
  log: (line: string) => void;
}

export async function lexicalScaleBench(options: LexicalScaleOptions): Promise<LexicalScaleRow[]> {
  const words = options.corpus.flatMap((t) => t.split(/\s+/).filter(Boolean));
  const common = mostFrequent(words, 100);
  const rows: LexicalScaleRow[] = [];
  let msPerPassage = 0;
  for (const size of options.sizes) {
    if (msPerPassage * size > options.buildBudgetMs) {
      options.log(`lexical scale: ${size} passages skipped (build ≈ ${Math.round((msPerPassage * size) / 1000)} s)`);
      rows.push({ passages: size, buildMs: NaN, bytesPerPassage: NaN, p50Ms: NaN, p95Ms: NaN, heldMB: NaN });
      continue;
    }
    options.log(`lexical scale: ${size} synthetic passages…`);
    rows.push(await measure(size, words, common, options.queries));
    msPerPassage = (rows.at(-1)?.buildMs ?? 0) / size;
  }
  return rows;
}

function mostFrequent(words: readonly string[], n: number): Set<string> {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return new Set([...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([w]) => w));
}

/** Passages made as the builder pulls them, so a million need not be in memory; the texts of the rows
 * in `kept` are recorded on the way, for the queries. */
function* synthetic(size: number, words: readonly string[], kept: Map<number, string>): Generator<Document> {
  const random = seededRandom(size);
  const pick = () => words[Math.floor(random() * words.length)] ?? '';
  for (let i = 0; i < size; i++) {
    const text = Array.from({ length: 100 }, pick).join(' ');
    if (kept.has(i)) kept.set(i, text);
    yield { id: `p${i}`, title: `Passage ${i}`, text };
  }
}

async function measure(size: number, words: readonly string[], common: ReadonlySet<string>, queryCount: number): Promise<LexicalScaleRow> {
  const random = seededRandom(size + 1);
  const sources = Array.from({ length: queryCount }, () => Math.floor(random() * size));
  const kept = new Map(sources.map((row) => [row, '']));
  const dir = mkdtempSync(join(tmpdir(), 'sdg-lexical-scale-'));
  try {
    const started = performance.now();
    const input = { name: 'lexical scale', source: { kind: 'jsonl' as const, file: 'synthetic', sha256: '0'.repeat(64) }, documents: synthetic(size, words, kept), chunkWords: 100 };
    const { manifest } = await buildIndex(input, { outDir: dir, embedder: null, shardBytes: 16 * 1024 * 1024, cacheDir: join(dir, '.cache') });
    const buildMs = performance.now() - started;
    const queries = sources.map((row) => {
      const text = (kept.get(row) ?? '').split(' ').filter((w) => !common.has(w));
      const at = Math.floor(random() * Math.max(1, text.length - 8));
      return text.slice(at, at + 8).join(' ');
    });
    const index = await openIndexFolder(dir);
    await index.search(queries[0] ?? 'warm up', { mode: 'lexical', k: 10 });
    const latencies: number[] = [];
    for (const query of queries) {
      const t = performance.now();
      await index.search(query, { mode: 'lexical', k: 10 });
      latencies.push(performance.now() - t);
    }
    const { lexical } = manifest;
    return {
      passages: size,
      buildMs,
      bytesPerPassage: sumBytes([lexical.dictionary, ...lexical.files]) / size,
      p50Ms: percentile(latencies, 50),
      p95Ms: percentile(latencies, 95),
      heldMB: index.memory.lexicalBytes / 1e6,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
