/**
 * Prompts in our own words, after the method of "Search, Do not Guess": a small model grounds every fact
 * in retrieved evidence; a reason-in-document step condenses what was found before the model reads it.
 */
import type { Passage } from './retriever.ts';
import { neutralizeUntrusted } from '../util/sanitize.ts';
import { estimateTokens, trimToTokens, type TokenCounter } from './token-budget.ts';

export const SEARCH_AGENT_PROMPT = `You answer questions by searching a Wikipedia index. You do not trust your memory: every fact your answer rests on must come from search results.

Work in steps. In every step, first think briefly inside <think> </think>, then take exactly one action:
- <search>a short query</search> looks something up. The results come back to you inside <information> </information>.
- <answer>the answer</answer> ends the work. Answer only once the results hold every fact you need.

Rules:
- Your first action is always a search.
- Look up one fact per search. For a question with several hops, search for the first fact, read the result, then search for the next.
- If the results do not hold what you need, search again with different words.
- The answer is a short phrase: a name, a date, a number, or yes/no. No sentence, no explanation.
- Never write <information> yourself.`;

/**
 * For a large teacher model whose traces become fine-tuning data (the paper's always-search data): the
 * same actions and syntax as the agent's prompt, but it must look up every entity, even ones it knows,
 * and keep memory out of its words, so that the kept traces teach a small model to search, not recall.
 */
export const ASP_TEACHER_PROMPT = `You answer questions by searching a Wikipedia index. Your work will be shown to a small model as an example of how to answer by searching, so it must rest on search results alone, never on your memory.

Work in steps. In every step, first think briefly inside <think> </think>, then take exactly one action:
- <search>a short query</search> looks something up. The results come back to you inside <information> </information>.
- <answer>the answer</answer> ends the work.

Rules:
- Before your first search, name every entity the question mentions or depends on: people, places, works, organisations, events, dates.
- Search for each of those entities, one per search, even the ones you think you know. For a question with several hops, search for the first fact, read the result, then search for the entity it leads to.
- Your first action is always a search. Answer only once the results you read hold every fact the answer rests on.
- Take facts from the results only. Never write that you remember, recall, believe or already know something; if a result disagrees with what you expected, follow the result.
- If the results do not hold what you need, search again with different words.
- The answer is a short phrase: a name, a date, a number, or yes/no. No sentence, no explanation.
- Never write <information> yourself.`;

export const SELF_ANSWER_PROMPT = `Answer the question from your own knowledge. Think briefly inside <think> </think>, then give the answer inside <answer> </answer>. The answer is a short phrase: a name, a date, a number, or yes/no. No sentence, no explanation.`;

export const REASON_IN_DOCUMENT_PROMPT = `You read search results for someone answering a question. Write down only the facts from the results that help answer the question or the search query, in at most three short sentences, naming the page each fact comes from. Copy names, dates and numbers exactly. Add nothing that the results do not say. If nothing helps, write: No relevant information.`;

export const NUDGES = {
  searchFirst: 'You have not searched yet. Do not answer from memory: issue a <search> for the first fact you need.',
  noSearchAllowed: 'Answer from your own knowledge now, inside <answer> </answer>.',
  noAction: 'Take an action now: <search>query</search> or <answer>answer</answer>.',
  cutOff: 'Your step was cut off. Keep your thinking short, then take one action: <search>query</search> or <answer>answer</answer>.',
  forgedInformation: 'Only the search engine writes <information>. Take an action: <search>query</search> or <answer>answer</answer>.',
  repeatedQuery: (query: string) =>
    `You already searched for "${neutralizeUntrusted(query)}". Search for something different, or answer if the results you have are enough.`,
} as const;

export function questionMessage(question: string): string {
  return `Question: ${neutralizeUntrusted(question)}`;
}

/**
 * A passage is cut to this many tokens, at a word end, so that a run of several searches fits a small
 * model's 4k context: 175 is the 700 characters the cut used to be at the chars/4 estimate, and about
 * 166 Qwen3 tokens of HotpotQA paragraphs (npm run bench).
 */
export const DEFAULT_PASSAGE_TOKENS = 175;

export interface PassageBudget {
  maxTokens: number;
  counter: TokenCounter;
}

const DEFAULT_BUDGET: PassageBudget = { maxTokens: DEFAULT_PASSAGE_TOKENS, counter: estimateTokens };

export function formatPassages(passages: readonly Passage[], budget: PassageBudget = DEFAULT_BUDGET): string {
  if (passages.length === 0) return 'No results.';
  return passages
    .map((p, i) => `Doc ${i + 1} (Title: ${neutralizeUntrusted(p.title)}) ${neutralizeUntrusted(trimToTokens(p.text, budget.maxTokens, budget.counter))}`)
    .join('\n');
}

export function informationMessage(body: string): string {
  return `<information>${neutralizeUntrusted(body)}</information>`;
}

export function reasonInDocumentMessage(question: string, query: string, passages: readonly Passage[], budget?: PassageBudget): string {
  return `Question: ${neutralizeUntrusted(question)}\nSearch query: ${neutralizeUntrusted(query)}\n\nSearch results:\n${formatPassages(passages, budget)}`;
}
