/**
 * The demo corpus as the app loads it: a lexical index built by the index builder (no embedder, so it
 * takes seconds), opened from its folder through the same checksum-verifying shard and range sources and
 * ShardedIndex the worker uses. Measures bytes per passage, the time to open the index and prefetch every
 * range of it (read, SHA-256; dictionary pages decoded) per MB of files, and recall@5 of the gold
 * paragraphs with BM25 (retrieval-quality.ts has the dense and hybrid rows; they need the USE-lite demo
 * index).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex } from '../../index-builder/build.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readPassages } from '../../index-builder/sources.ts';
import { indexFiles, sumBytes } from '../../src/core/index/index-manifest.ts';
import { encodeVectorShard } from '../../src/retrieval/shard-codec.ts';
import type { ShardedIndex } from '../../src/retrieval/sharded-index.ts';
import { HOTPOT_PATH, hotpotQuestions } from '../shared-data.ts';

export interface IndexLoadReport {
  passages: number;
  bytesPerPassage: { text: number; lexical: number; vectorsInt8: number };
  /** Opening the index and then prefetching every range of it (what offline use needs), per MB of files. */
  loadMsPerMB: number;
  shardMB: number;
  recallAt5Lexical: number;
  questions: number;
}

/** USE-lite's 512 dimensions as int8, plus the row's float32 scale. */
const VECTOR_DIMENSION = 512;

export async function indexLoadBench(options: { questions: number; log: (line: string) => void }): Promise<IndexLoadReport> {
  const dir = mkdtempSync(join(tmpdir(), 'sdg-index-load-'));
  try {
    options.log('index load: building the lexical demo index…');
    const { documents } = await readPassages(HOTPOT_PATH);
    const input = { name: 'bench', source: { kind: 'jsonl' as const, file: 'bench', sha256: '0'.repeat(64) }, documents, chunkWords: 100 };
    const { manifest } = await buildIndex(input, { outDir: dir, embedder: null, shardBytes: 2 * 1024 * 1024, cacheDir: join(dir, '.cache') });
    const started = performance.now();
    const index = await openIndexFolder(dir);
    await index.prefetch();
    const loadMs = performance.now() - started;
    const { passages, lexical } = manifest;
    const shardBytes = sumBytes(indexFiles(manifest));
    options.log(`index load: recall@5 over ${options.questions} questions…`);
    return {
      passages: passages.count,
      bytesPerPassage: { text: sumBytes([passages.table, ...passages.files]) / passages.count, lexical: sumBytes([lexical.dictionary, ...lexical.files]) / passages.count, vectorsInt8: vectorBytesPerPassage() },
      loadMsPerMB: loadMs / (shardBytes / 1e6),
      shardMB: shardBytes / 1e6,
      recallAt5Lexical: await recallAt5(index, options.questions),
      questions: options.questions,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function vectorBytesPerPassage(): number {
  const rows = 100;
  return encodeVectorShard({ dimension: VECTOR_DIMENSION, codes: new Int8Array(rows * VECTOR_DIMENSION), scales: new Float32Array(rows) }).byteLength / rows;
}

/** Mean share of each question's gold paragraphs among its top 5, as retrieval-quality.ts scores it. */
async function recallAt5(index: ShardedIndex, count: number): Promise<number> {
  const questions = hotpotQuestions(count);
  let recall = 0;
  for (const q of questions) {
    const gold = new Set(q.contexts.filter((c) => c.is_supporting).map((c) => c.title));
    const found = new Set((await index.search(q.question_text, { mode: 'lexical', k: 5 })).map((p) => p.title).filter((t) => gold.has(t)));
    recall += found.size / Math.max(1, gold.size);
  }
  return recall / Math.max(1, questions.length);
}
