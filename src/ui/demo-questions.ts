/** The sample questions the index builder writes beside the demo index (HotpotQA, with gold answers). */
import { parseDataset, type DatasetParse } from '../core/eval/datasets.ts';

export const DEMO_QUESTIONS_URL = './index/questions.jsonl';

export async function fetchDemoQuestions(): Promise<DatasetParse> {
  const response = await fetch(DEMO_QUESTIONS_URL);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return parseDataset(await response.text());
}
