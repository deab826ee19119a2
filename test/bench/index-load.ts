/**
 * The demo corpus as the app loads it: a lexical index built by the index builder (no embedder, so it
 * takes seconds), opened through the same checksum-verifying shard source and ShardedIndex the worker
 * uses. Measures bytes per passage, load time per MB of shards (read, SHA-256, decode) and recall@5 of
 * the gold paragraphs with BM25 (retrieval-quality.ts has the dense and hybrid rows; they need the
 * USE-lite demo index).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildIndex } from '../../index-builder/build.ts';
import { fileFetch } from '../../index-builder/file-fetch.ts';
import { readPassages } from '../../index-builder/sources.ts';
import { encodeVectorShard } from '../../src/retrieval/shard-codec.ts';
import { ShardedIndex } from '../../src/retrieval/sharded-index.ts';
import { shardSource } from '../../src/retrieval/shard-source.ts';
import { HOTPOT_PATH, hotpotQuestions } from '../shared-data.ts';

export interface IndexLoadReport {
  passages: number;
  bytesPerPassage: { text: number; lexical: number; vectorsInt8: number };
  /** Opening the index (lexical shards) and then loading every passage shard, per MB of shards. */
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
    const fetchShard = shardSource({ base: pathToFileURL(`${dir}/`), fetch: fileFetch });
    const started = performance.now();
    const index = await ShardedIndex.open(manifest, { fetchShard, embedder: null });
    await index.prefetch();
    const loadMs = performance.now() - started;
    const sum = (shards: readonly { bytes: number }[]) => shards.reduce((s, x) => s + x.bytes, 0);
    const shardBytes = sum(manifest.passages.shards) + sum(manifest.lexical.shards);
    options.log(`index load: recall@5 over ${options.questions} questions…`);
    return {
      passages: manifest.passages.count,
      bytesPerPassage: { text: sum(manifest.passages.shards) / manifest.passages.count, lexical: sum(manifest.lexical.shards) / manifest.passages.count, vectorsInt8: vectorBytesPerPassage() },
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
