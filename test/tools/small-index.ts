/** A real index (USE-lite vectors unless told otherwise, BM25, checksummed shards) over the paragraphs of the first few
 * shared HotpotQA questions: what the browser tests serve as `/index/`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildIndex } from '../../index-builder/build.ts';
import { loadEmbedder, type EmbedderChoice } from '../../index-builder/embedders.ts';
import type { DenseChoice } from '../../index-builder/dense-choice.ts';
import { readPassages } from '../../index-builder/sources.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import { hotpotQuestions } from '../shared-data.ts';

export async function buildSmallIndex(outDir: string, questions: number, shardBytes = 16 * 1024, embedderChoice: EmbedderChoice = { kind: 'use-lite' }, dense: DenseChoice = 'auto'): Promise<Document[]> {
  return buildIndexFrom(outDir, `HotpotQA, ${questions} questions`, hotpotQuestions(questions), shardBytes, embedderChoice, dense);
}

/** An index of any corpus lines the builder reads (passages or benchmark lines), e.g. crafted hostile passages. */
export async function buildIndexFrom(outDir: string, name: string, lines: readonly object[], shardBytes = 16 * 1024, embedderChoice: EmbedderChoice = { kind: 'use-lite' }, dense: DenseChoice = 'auto'): Promise<Document[]> {
  const source = join(outDir, 'source.jsonl');
  writeFileSync(source, lines.map((line) => JSON.stringify(line)).join('\n'));
  const { documents } = await readPassages(source);
  const embedder = await loadEmbedder(embedderChoice);
  try {
    await buildIndex(
      { name, source: { kind: 'jsonl', file: 'source.jsonl', sha256: '0'.repeat(64) }, documents, chunkWords: 100 },
      { outDir, embedder, shardBytes, cacheDir: join(outDir, '.cache'), dense },
    );
  } finally {
    await embedder?.instance.dispose();
  }
  return documents;
}
