/** The HotpotQA subset in ../shared/data, for tests and benchmarks. */
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
