/** A Retriever over a handful of documents in memory, on the app's real lexical (BM25) index. */
import type { Document, Passage, Retriever } from '../../../src/core/retriever.ts';
import { LexicalIndex } from '../../../src/retrieval/lexical-index.ts';

export function lexicalRetriever(documents: readonly Document[]): Retriever {
  const index = LexicalIndex.build(documents);
  return {
    async search(query: string, k: number, signal?: AbortSignal): Promise<Passage[]> {
      signal?.throwIfAborted();
      return index.search(query, k).map(({ row, score }) => ({ ...(documents[row] as Document), score }));
    },
  };
}
