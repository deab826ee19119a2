/**
 * Benchmark question sets, as JSONL: the FlashRAG shape `{id, question, golden_answers}` (HotpotQA,
 * 2WikiMultiHopQA, MuSiQue, Bamboogle as FlashRAG ships them) and the IRCoT "processed" shape of
 * `../shared/data` (`{question_id, question_text, answers_objects: [{spans}]}`). Untrusted input: each
 * bad line is reported with its number and reason, none is dropped silently.
 */
import { z } from 'zod';
import { parseJsonLine } from '../index/corpus.ts';

export interface BenchQuestion {
  id: string;
  question: string;
  /** Gold answers; a prediction scores against the closest one. */
  answers: string[];
}

export interface DatasetParse {
  questions: BenchQuestion[];
  skipped: { line: number; reason: string }[];
}

/** A benchmark line may carry its context paragraphs (ten in HotpotQA), hence the generous bound. */
const MAX_DATASET_LINE_CHARS = 1_000_000;

const Id = z.union([z.string(), z.number()]).transform(String).pipe(z.string().min(1).max(200));
const Question = z.string().trim().min(1).max(2_000);
const Answers = z.array(z.string().trim().min(1).max(1_000)).min(1).max(100);

const FlashRag = z.object({ id: Id, question: Question, golden_answers: Answers }).transform((q) => ({ id: q.id, question: q.question, answers: q.golden_answers }));
const Ircot = z
  .object({ question_id: Id, question_text: Question, answers_objects: z.array(z.object({ spans: z.array(z.string()) })).min(1) })
  .transform((q) => ({ id: q.question_id, question: q.question_text, answers: q.answers_objects.flatMap((a) => a.spans).map((s) => s.trim()).filter(Boolean) }))
  .pipe(z.object({ id: z.string(), question: z.string(), answers: Answers }));

export function parseDataset(text: string): DatasetParse {
  const questions: BenchQuestion[] = [];
  const skipped: DatasetParse['skipped'] = [];
  const seen = new Set<string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const parsed = parseQuestion(line);
    if (typeof parsed === 'string') skipped.push({ line: i + 1, reason: parsed });
    else if (seen.has(parsed.id)) skipped.push({ line: i + 1, reason: `duplicate id ${parsed.id}` });
    else {
      seen.add(parsed.id);
      questions.push(parsed);
    }
  });
  return { questions, skipped };
}

function parseQuestion(line: string): BenchQuestion | string {
  const json = parseJsonLine(line, MAX_DATASET_LINE_CHARS);
  if ('error' in json) return json.error;
  const flashRag = FlashRag.safeParse(json.value);
  if (flashRag.success) return flashRag.data;
  const ircot = Ircot.safeParse(json.value);
  if (ircot.success) return ircot.data;
  const issue = (looksLikeIrcot(json.value) ? ircot.error : flashRag.error).issues[0];
  return `not a question line {id, question, golden_answers}: ${issue ? `${issue.path.join('.') || 'line'}: ${issue.message}` : 'unknown shape'}`;
}

function looksLikeIrcot(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'question_text' in value;
}
