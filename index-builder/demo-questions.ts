/**
 * The demo index's questions (`questions.jsonl` beside its manifest, FlashRAG's shape), so the app's
 * benchmark page can run them without ../shared: the same questions whose paragraphs were indexed.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseDataset, type BenchQuestion } from '../src/core/eval/datasets.ts';

export const QUESTIONS_FILE = 'questions.jsonl';

const HotpotItem = z.object({ _id: z.string().min(1), question: z.string().min(1), answer: z.string().min(1) });

export function writeDemoQuestions(outDir: string, source: { kind: 'jsonl' | 'hotpotqa-json'; path: string }, limit: number): number {
  const text = readFileSync(source.path, 'utf8');
  const questions = (source.kind === 'jsonl' ? parseDataset(text).questions : hotpotQuestions(text)).slice(0, limit);
  const body = questions.map((q) => JSON.stringify({ id: q.id, question: q.question, golden_answers: q.answers })).join('\n') + '\n';
  const target = join(outDir, QUESTIONS_FILE);
  writeFileSync(`${target}.partial`, body);
  renameSync(`${target}.partial`, target);
  return questions.length;
}

function hotpotQuestions(text: string): BenchQuestion[] {
  const items: unknown = JSON.parse(text);
  if (!Array.isArray(items)) return [];
  return items.flatMap((item) => {
    const parsed = HotpotItem.safeParse(item);
    return parsed.success ? [{ id: parsed.data._id, question: parsed.data.question, answers: [parsed.data.answer] }] : [];
  });
}
