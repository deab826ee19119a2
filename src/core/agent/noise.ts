/**
 * Noisy retrieval, as in the paper's robustness test: a share of searches fail (return nothing), or
 * return similar-but-wrong passages (the ones ranked just below the true top-k). Seeded, so a run with
 * noise is reproducible.
 */
import type { Passage, Retriever } from './retriever.ts';

/** The ways a search can be spoiled; Ask, Benchmark and `npm run eval` offer the same ones. */
export const NOISE_KINDS = ['fail', 'distract'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

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

/**
 * A share `rate` of searches is spoiled. `distract` keeps the search's topic but drops the best hits:
 * the passages ranked k+1…2k look relevant and rarely hold the answer.
 */
export function noisyRetriever(retriever: Retriever, kind: NoiseKind, rate: number, seed = 1): Retriever {
  if (!(rate >= 0 && rate <= 1)) throw new Error(`the noise rate must be between 0 and 1, got ${rate}`);
  const random = seededRandom(seed);
  return {
    async search(query: string, k: number, signal?: AbortSignal): Promise<Passage[]> {
      if (random() >= rate) return retriever.search(query, k, signal);
      if (kind === 'fail') return [];
      const ranked = await retriever.search(query, 2 * k, signal);
      return ranked.slice(k);
    },
  };
}
