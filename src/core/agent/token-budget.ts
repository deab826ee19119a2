/**
 * Token budgets for what the agent pastes into the prompt. The core never imports a tokenizer (it stays
 * engine-free), so it counts through a small interface: a chars/4 estimate by default, the real model
 * tokenizer when an engine or a benchmark injects one.
 */

export interface TokenCounter {
  /** Tokens `text` encodes to, without any special tokens around it. */
  count(text: string): number;
}

/** English BPE text averages about four characters a token (Qwen3 on Wikipedia paragraphs: ~4.4). */
export const estimateTokens: TokenCounter = { count: (text) => Math.ceil(text.length / 4) };

export const ELLIPSIS = '…';

/**
 * Cuts `text` to at most `maxTokens` tokens, ellipsis included, at the end of a word. Token counts of
 * prefixes grow with their length (not strictly for BPE, hence the final check), so a binary search over
 * word ends needs O(log words) counts. A first word that alone is over the budget is cut mid-word.
 */
export function trimToTokens(text: string, maxTokens: number, counter: TokenCounter = estimateTokens): string {
  if (counter.count(text) <= maxTokens) return text;
  if (maxTokens < 1) return '';
  const fits = (end: number) => counter.count(cut(text, end)) <= maxTokens;
  const words = wordEnds(text);
  const best = largestFitting(words.length, (i) => words[i] as number, fits) ?? largestFitting(text.length, (i) => i + 1, fits);
  return best === undefined ? '' : cut(text, best);
}

function cut(text: string, end: number): string {
  return `${text.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

/** Offsets just past each word, in increasing order. */
function wordEnds(text: string): number[] {
  const ends: number[] = [];
  for (const match of text.matchAll(/\S+/g)) ends.push(match.index + match[0].length);
  return ends;
}

/** The largest of `count` increasing candidate ends for which `fits` holds, fits assumed monotone. */
function largestFitting(count: number, endAt: (i: number) => number, fits: (end: number) => boolean): number | undefined {
  let lo = 0;
  let hi = count - 1;
  let best: number | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const end = endAt(mid);
    if (fits(end)) {
      best = end;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}
