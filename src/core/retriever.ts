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
