/** The sample questions the index builder writes beside the demo index (HotpotQA, with gold answers). */
import { parseDataset, type DatasetParse } from '../core/eval/datasets.ts';

export const DEMO_QUESTIONS_URL = './index/questions.jsonl';

// Fetched once for every part of the page that offers or scores them; a failed fetch is tried again.
let pending: Promise<DatasetParse> | null = null;

export function fetchDemoQuestions(): Promise<DatasetParse> {
  pending ??= fetchOnce().catch((error: unknown) => {
    pending = null;
    throw error;
  });
  return pending;
}

async function fetchOnce(): Promise<DatasetParse> {
  const response = await fetch(DEMO_QUESTIONS_URL);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return parseDataset(await response.text());
}

/**
 * Looks up each asked question's gold answers and hands them to `show` (null first, and for a question
 * that is no sample); a lookup that ends after a newer question was asked is dropped.
 */
export function goldFollower(show: (gold: string[] | null) => void): (question: string) => void {
  let asked = 0;
  return (question) => {
    const mine = ++asked;
    show(null);
    void goldAnswersFor(question).then((gold) => mine === asked && show(gold));
  };
}

/** The gold answers of a sample question asked as written; null for any other question. */
export async function goldAnswersFor(question: string): Promise<string[] | null> {
  try {
    const { questions } = await fetchDemoQuestions();
    return questions.find((q) => q.question.trim() === question.trim())?.answers ?? null;
  } catch {
    return null;
  }
}
