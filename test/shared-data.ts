/** Reads the HotpotQA subset in ../shared/data into the passage JSONL the app loads (tests only). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const HOTPOT_PATH = fileURLToPath(new URL('../../shared/data/hotpotqa_dev_distractor_400.jsonl', import.meta.url));

interface HotpotLine {
  question_text: string;
  answers_objects: { spans: string[] }[];
  contexts: { title: string; paragraph_text: string; is_supporting: boolean }[];
}

export function hotpotQuestions(limit: number): HotpotLine[] {
  return readFileSync(HOTPOT_PATH, 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, limit)
    .map((line) => JSON.parse(line) as HotpotLine);
}

/** The paragraphs of the first `limit` questions as `{id, title, text}` lines, deduplicated by title + text. */
export function passagesJsonl(limit: number): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const q of hotpotQuestions(limit)) {
    for (const c of q.contexts) {
      const key = `${c.title}\u0000${c.paragraph_text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lines.push(JSON.stringify({ id: `p${lines.length}`, title: c.title, text: c.paragraph_text }));
    }
  }
  return lines.join('\n');
}
