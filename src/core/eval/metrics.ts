/**
 * Answer scores as the paper reports them: String-F1 and Exact Match after SQuAD normalisation
 * (lower-case, drop ASCII punctuation and the articles a/an/the, collapse white space), taking the best
 * score over the gold aliases.
 */

// Python's string.punctuation, which SQuAD's official script strips.
const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;
const ARTICLES = /\b(a|an|the)\b/g;
/** HotpotQA's rule: a yes/no/noanswer prediction scores only on an exact match. */
const SPECIAL_ANSWERS = new Set(['yes', 'no', 'noanswer']);

export function normalizeAnswer(text: string): string {
  return text.toLowerCase().replace(PUNCTUATION, '').replace(ARTICLES, ' ').split(/\s+/).filter(Boolean).join(' ');
}

function tokenF1(prediction: string, gold: string): number {
  const pred = normalizeAnswer(prediction);
  const ref = normalizeAnswer(gold);
  if ((SPECIAL_ANSWERS.has(pred) || SPECIAL_ANSWERS.has(ref)) && pred !== ref) return 0;
  const predTokens = pred.split(' ').filter(Boolean);
  const refTokens = ref.split(' ').filter(Boolean);
  if (predTokens.length === 0 || refTokens.length === 0) return predTokens.length === refTokens.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of refTokens) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of predTokens) {
    const left = counts.get(t) ?? 0;
    if (left > 0) {
      common++;
      counts.set(t, left - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / predTokens.length;
  const recall = common / refTokens.length;
  return (2 * precision * recall) / (precision + recall);
}

function bestOver(golds: readonly string[], score: (gold: string) => number): number {
  return golds.reduce((best, gold) => Math.max(best, score(gold)), 0);
}

export function stringF1(prediction: string, golds: readonly string[]): number {
  return bestOver(golds, (gold) => tokenF1(prediction, gold));
}

export function exactMatch(prediction: string, golds: readonly string[]): number {
  const pred = normalizeAnswer(prediction);
  return bestOver(golds, (gold) => (normalizeAnswer(gold) === pred ? 1 : 0));
}
