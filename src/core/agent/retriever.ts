/** What the agent needs from retrieval; backed by the retrieval worker or an in-memory index. */

export interface Passage {
  id: string;
  title: string;
  text: string;
  score: number;
}

export interface Retriever {
  search(query: string, k: number, signal?: AbortSignal): Promise<Passage[]>;
}

/** A passage as stored in an index, before any query scored it. */
export type Document = Omit<Passage, 'score'>;

/** How a sharded index ranks: BM25, vectors, or both fused. Hybrid first: the order the picker lists. */
export const RETRIEVAL_MODES = ['hybrid', 'lexical', 'dense'] as const;
export type RetrievalMode = (typeof RETRIEVAL_MODES)[number];
