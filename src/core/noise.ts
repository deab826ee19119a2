/**
 * Noisy retrieval, as in the paper's robustness test: a share of searches fail (return nothing).
 * Seeded, so a benchmark run with noise is reproducible.
 */
import type { Passage, Retriever } from './retriever.ts';

/** mulberry32: small, fast, and the same sequence everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function failingRetriever(retriever: Retriever, rate: number, seed = 1): Retriever {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`the failure rate must be between 0 and 1, got ${rate}`);
  const random = seededRandom(seed);
  return {
    search(query: string, k: number, signal?: AbortSignal): Promise<Passage[]> {
      return random() < rate ? Promise.resolve([]) : retriever.search(query, k, signal);
    },
  };
}
