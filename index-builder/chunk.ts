/**
 * Cuts long texts into passages of about `words` words that keep their title. Short texts stay whole:
 * a text is only cut when it holds more than 1.5 times the target, so no passage is a stub of a few
 * words, and cuts prefer sentence ends so a fact is not split across two passages.
 */

const SENTENCE_END = /[.!?]["')\]]?$/;

export function chunkText(text: string, words = 100): string[] {
  const tokens = text.split(/\s+/).filter(Boolean);
  if (tokens.length <= words * 1.5) return tokens.length ? [tokens.join(' ')] : [];
  const pieces: string[] = [];
  let start = 0;
  while (tokens.length - start > words * 1.5) {
    const end = cutPoint(tokens, start, words);
    pieces.push(tokens.slice(start, end).join(' '));
    start = end;
  }
  pieces.push(tokens.slice(start).join(' '));
  return pieces;
}

/** The sentence end nearest to `start + words` within ±30%, else exactly `start + words`. */
function cutPoint(tokens: readonly string[], start: number, words: number): number {
  const target = start + words;
  const slack = Math.floor(words * 0.3);
  for (let offset = 0; offset <= slack; offset++) {
    for (const end of [target + offset, target - offset]) {
      if (end > start && SENTENCE_END.test(tokens[end - 1] ?? '')) return end;
    }
  }
  return target;
}
