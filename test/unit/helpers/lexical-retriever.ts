/** A Retriever over a handful of documents on the app's real lexical (BM25) index: written by the index
 * builder into a temporary folder and opened from it as the search CLI opens an index. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIndex } from '../../../index-builder/build.ts';
import { openIndexFolder } from '../../../index-builder/open-folder.ts';
import type { Document, Passage, Retriever } from '../../../src/core/agent/retriever.ts';

export interface TemporaryRetriever extends Retriever {
  /** Removes the index folder; searches fail after it (their ranges are read from disk). */
  close(): void;
}

export async function lexicalRetriever(documents: readonly Document[]): Promise<TemporaryRetriever> {
  const dir = mkdtempSync(join(tmpdir(), 'sdg-lexical-retriever-'));
  try {
    const input = { name: 'test corpus', source: { kind: 'jsonl' as const, file: 'test.jsonl', sha256: '0'.repeat(64) }, documents, chunkWords: 100 };
    await buildIndex(input, { outDir: dir, embedder: null, shardBytes: 1024 * 1024, cacheDir: join(dir, '.cache') });
    const index = await openIndexFolder(dir);
    return {
      async search(query: string, k: number, signal?: AbortSignal): Promise<Passage[]> {
        signal?.throwIfAborted();
        return index.search(query, { mode: 'lexical', k });
      },
      close: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
