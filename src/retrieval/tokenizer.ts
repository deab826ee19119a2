/**
 * The one tokenizer of the lexical index: the builder indexes with it and every query is cut by it, so
 * a term means the same on both sides. Its id goes into the manifest; changing what it emits for any
 * text means a new id (and a rebuilt index).
 *
 * Words are runs of letters and digits, lower-cased with accents folded ("Beyoncé" finds "beyonce"), and
 * common English function words are dropped. Dropping them is what keeps a cold query small: "the" or
 * "of" sit in nearly every passage, so their posting lists would be most of what a query fetches while
 * adding almost nothing to BM25 (their idf is near zero).
 */

export const TOKENIZER_ID = 'sdg-words-1';

/** Longer runs are cut: no real word is this long, and a hostile query cannot make one huge term. */
export const MAX_TERM_CHARS = 40;

/** Lucene's English stop words, plus the pronouns, auxiliaries and question words that fill
 * Wikipedia prose and HotpotQA questions. */
const STOP_WORDS = new Set(
  (
    'a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with ' +
    'were been has have had he she his her its from which who whom what when where how did does do s'
  ).split(' '),
);

const WORD = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;

/** The index terms of `text`, in order, repeats kept (term frequencies count them). */
export function tokenize(text: string): string[] {
  const terms: string[] = [];
  for (const [word] of text.normalize('NFD').replace(MARKS, '').toLowerCase().matchAll(WORD)) {
    // Cut by code points: half a surrogate pair would not survive the UTF-8 round trip through the index.
    const term = word.length > MAX_TERM_CHARS ? Array.from(word).slice(0, MAX_TERM_CHARS).join('') : word;
    if (!STOP_WORDS.has(term)) terms.push(term);
  }
  return terms;
}
