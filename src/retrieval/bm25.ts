/**
 * BM25 as the lexical index stores it: each posting holds its term's whole contribution to the
 * passage's score, quantised to an integer impact (1…255). A query then only adds integers: no document
 * lengths are fetched, any evaluation order gives the same score, and pruning (maxscore.ts) can be exact.
 * Eight bits lose nothing measurable against float BM25 (recall@5 in `npm run bench:scale`).
 */
import { tokenize } from './tokenizer.ts';

export interface Bm25Params {
  k1: number;
  b: number;
}

/** The usual defaults (Lucene, Pyserini, the scale corpus's own reference). */
export const BM25_DEFAULTS: Bm25Params = { k1: 1.2, b: 0.75 };

/** A title word counts as this many words of text: the passage is usually about its title. */
export const TITLE_WEIGHT = 2;

export const MAX_IMPACT = 255;

/** Lucene's idf: never negative, so a term in most passages still adds a little. */
export function idf(df: number, passages: number): number {
  return Math.log(1 + (passages - df + 0.5) / (df + 0.5));
}

export function bm25(tf: number, length: number, avgLength: number, df: number, passages: number, { k1, b }: Bm25Params): number {
  return (idf(df, passages) * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / avgLength));
}

/** Impacts per unit of BM25 score: the highest possible score (a term in one passage only, tf → ∞)
 * maps to MAX_IMPACT. */
export function impactScale(passages: number, params: Bm25Params): number {
  return MAX_IMPACT / (idf(1, passages) * (params.k1 + 1));
}

/** At least 1: a passage that holds the term is always found by it. */
export function quantize(score: number, scale: number): number {
  return Math.min(MAX_IMPACT, Math.max(1, Math.round(score * scale)));
}

export interface PassageTerms {
  /** Term → frequency, title words weighted. */
  tf: Map<string, number>;
  /** The weighted number of terms: BM25's document length. */
  length: number;
}

export function passageTerms(title: string, text: string): PassageTerms {
  const tf = new Map<string, number>();
  let length = 0;
  const count = (terms: readonly string[], weight: number) => {
    for (const term of terms) tf.set(term, (tf.get(term) ?? 0) + weight);
    length += terms.length * weight;
  };
  count(tokenize(title), TITLE_WEIGHT);
  count(tokenize(text), 1);
  return { tf, length };
}

/** A query's terms with how often each occurs (a repeated word weighs more), at most `maxTerms`
 * distinct ones, first come first kept: a 1,000-word query costs what a 64-word one does. */
export function queryTerms(query: string, maxTerms: number): Map<string, number> {
  const weights = new Map<string, number>();
  for (const term of tokenize(query)) {
    if (weights.has(term)) weights.set(term, (weights.get(term) ?? 0) + 1);
    else if (weights.size < maxTerms) weights.set(term, 1);
  }
  return weights;
}
