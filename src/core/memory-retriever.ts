/**
 * A small in-memory lexical retriever (BM25 through MiniSearch) over passages held in memory: the
 * retriever behind the app until the sharded index worker serves it, and a real one for tests.
 */
import MiniSearch from 'minisearch';
import type { Passage, Retriever } from './retriever.ts';

export type Document = Omit<Passage, 'score'>;

export class MemoryRetriever implements Retriever {
  private readonly index = new MiniSearch<Document>({
    fields: ['title', 'text'],
    storeFields: ['title', 'text'],
    searchOptions: { boost: { title: 2 }, prefix: false, fuzzy: false },
  });

  constructor(documents: readonly Document[]) {
    this.index.addAll(dedupe(documents));
  }

  get size(): number {
    return this.index.documentCount;
  }

  async search(query: string, k: number, signal?: AbortSignal): Promise<Passage[]> {
    signal?.throwIfAborted();
    return this.index
      .search(query, { combineWith: 'OR' })
      .slice(0, Math.max(0, k))
      .map((hit) => ({ id: String(hit.id), title: String(hit['title']), text: String(hit['text']), score: hit.score }));
  }
}

/** MiniSearch rejects duplicate ids; the same paragraph often comes with several questions. */
function dedupe(documents: readonly Document[]): Document[] {
  const seen = new Map<string, Document>();
  for (const doc of documents) if (!seen.has(doc.id)) seen.set(doc.id, doc);
  return [...seen.values()];
}
