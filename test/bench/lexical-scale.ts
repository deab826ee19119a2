/**
 * BM25 (the app's MiniSearch index) at scale on synthetic passages: 100 words each, drawn from the word
 * frequencies of the real HotpotQA paragraphs, so posting lists are as skewed as real text's. Queries
 * are eight words of a random passage, the corpus's 100 most frequent words left out, like a small
 * model's keyword query.
 */
import { seededRandom } from '../../src/core/noise.ts';
import { percentile } from '../../src/core/stats.ts';
import { LexicalIndex, type LexicalDocument } from '../../src/retrieval/lexical-index.ts';

export interface LexicalScaleRow {
  passages: number;
  buildMs: number;
  /** Serialised index (the lexical shards' payload) per passage. */
  bytesPerPassage: number;
  p50Ms: number;
  p95Ms: number;
  /** Heap growth while building, per 100k passages (a rough peak-memory figure for the worker). */
  heapMBPer100k: number;
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
      rows.push({ passages: size, buildMs: NaN, bytesPerPassage: NaN, p50Ms: NaN, p95Ms: NaN, heapMBPer100k: NaN });
      continue;
    }
    options.log(`lexical scale: ${size} synthetic passages…`);
    rows.push(measure(size, words, common, options.queries));
    msPerPassage = (rows.at(-1)?.buildMs ?? 0) / size;
  }
  return rows;
}

function mostFrequent(words: readonly string[], n: number): Set<string> {
  const counts = new Map<string, number>();
  for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
  return new Set([...counts].sort((a, b) => b[1] - a[1]).slice(0, n).map(([w]) => w));
}

function measure(size: number, words: readonly string[], common: ReadonlySet<string>, queryCount: number): LexicalScaleRow {
  const random = seededRandom(size);
  const pick = () => words[Math.floor(random() * words.length)] ?? '';
  const documents: LexicalDocument[] = Array.from({ length: size }, (_, i) => ({ title: `Passage ${i}`, text: Array.from({ length: 100 }, pick).join(' ') }));
  const heapBefore = process.memoryUsage().heapUsed;
  const started = performance.now();
  const index = LexicalIndex.build(documents);
  const buildMs = performance.now() - started;
  const heapMB = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  const queries = Array.from({ length: queryCount }, () => {
    const text = (documents[Math.floor(random() * size)]?.text.split(' ') ?? []).filter((w) => !common.has(w));
    const at = Math.floor(random() * Math.max(1, text.length - 8));
    return text.slice(at, at + 8).join(' ');
  });
  index.search(queries[0] ?? 'warm up', 10);
  const latencies = queries.map((q) => {
    const t = performance.now();
    index.search(q, 10);
    return performance.now() - t;
  });
  const bytesPerPassage = size <= 200_000 ? Buffer.byteLength(index.toJSON()) / size : NaN; // past that, the JSON nears V8's string limit
  return { passages: size, buildMs, bytesPerPassage, p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), heapMBPer100k: (heapMB * 100_000) / size };
}
