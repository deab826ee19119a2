/**
 * Agent token costs with the real Qwen3 tokenizer and chat template: the real agent loop (runAgent) over
 * the shared HotpotQA questions and the app's BM25 index of their paragraphs, with a plausible scripted
 * model (test/bench/plausible-engine.ts). Per question: tokens decoded, and tokens prefilled under three
 * engine behaviours, simulated call by call over one cache slot, as the engines keep it:
 *
 * - no reuse: every call prefills its whole prompt;
 * - prefix reuse (llama.cpp, hence wllama and llama-server): the cache holds the last call's prompt and
 *   decoded tokens, and a call prefills only from the first token where its prompt differs;
 * - message reuse (WebLLM): the cache survives only when the request's earlier messages equal the last
 *   conversation with the engine's own reply appended, verbatim; then only the new message is prefilled,
 *   otherwise everything.
 *
 * A reason-in-document step is a separate conversation on the same slot, so it evicts the agent's.
 */
import type { ChatMessage } from '../../src/core/agent/engine.ts';
import { runAgent, type AgentConfig } from '../../src/core/agent/agent.ts';
import { adaptive, alwaysSearch, noSearch, type Policy } from '../../src/core/agent/policy.ts';
import type { Document, Retriever } from '../../src/core/agent/retriever.ts';
import { mean } from '../../src/core/eval/stats.ts';
import { DEFAULT_PASSAGE_TOKENS } from '../../src/core/agent/prompts.ts';
import { estimateTokens, trimToTokens } from '../../src/core/agent/token-budget.ts';
import { hotpotQuestions } from '../shared-data.ts';
import { lexicalRetriever } from '../unit/helpers/lexical-retriever.ts';
import { PlausibleEngine, type BenchQuestion, type EngineCall } from './plausible-engine.ts';
import { loadQwen3Tokenizer, type Qwen3Tokenizer } from './qwen3-tokenizer.ts';

/** Share of questions the adaptive policy self-answers (the paper probes P = 5…50%). */
export const ADAPTIVE_SELF_ANSWERED = 0.2;
const CORPUS_QUESTIONS = 400;

export interface AgentTokenRow {
  config: string;
  questions: number;
  selfAnswered: number;
  searches: number;
  engineCalls: number;
  decoded: number;
  prefillNoReuse: number;
  prefillPrefixReuse: number;
  prefillMessageReuse: number;
  /** Message reuse if the agent kept each reply exactly as the engine returned it (see the report). */
  prefillMessageReuseVerbatim: number;
  /** Tokens of the `<information>` messages the model reads, per question. */
  informationTokens: number;
  /** The longest prompt of a question: what must fit the context window. */
  peakPromptTokens: number;
  /** Agent loop + retrieval wall time per question, the scripted model's own time excluded. */
  agentMs: number;
}

export interface AgentTokenReport {
  rows: AgentTokenRow[];
  passages: { cap: number; meanQwen3TokensAtCap: number; meanCharsAtCap: number };
}

interface Config {
  name: string;
  policy: Policy;
  agent?: Partial<AgentConfig>;
}

function configs(tokenizer: Qwen3Tokenizer): Config[] {
  const selfAnswers = adaptive(async (question) => hashUnit(question), 1 - ADAPTIVE_SELF_ANSWERED);
  return [
    { name: 'always-search', policy: alwaysSearch },
    { name: 'always-search, reason-in-document', policy: alwaysSearch, agent: { reasonInDocument: true } },
    { name: 'always-search, passages ≤ 100 Qwen3 tokens', policy: alwaysSearch, agent: { maxPassageTokens: 100, tokenCounter: tokenizer } },
    { name: `adaptive (${ADAPTIVE_SELF_ANSWERED * 100}% self-answered)`, policy: selfAnswers },
    { name: 'no-search', policy: noSearch },
  ];
}

/** A stable pseudo-confidence in [0, 1) per question (FNV-1a), so the self-answered share is fixed. */
function hashUnit(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) / 2 ** 32;
}

export async function agentTokensBench(options: { questions: number; log: (line: string) => void }): Promise<AgentTokenReport> {
  // The index holds the paragraphs of all 400 questions, as the demo index does, whatever the number asked.
  const lines = hotpotQuestions(Math.max(options.questions, CORPUS_QUESTIONS));
  const questions = lines.slice(0, options.questions).map((l) => ({ question: l.question_text, answer: l.answers_objects[0]?.spans[0] ?? '', goldTitles: l.contexts.filter((c) => c.is_supporting).map((c) => c.title) }));
  const documents = dedupe(lines.flatMap((l) => l.contexts.map((c) => ({ title: c.title, text: c.paragraph_text }))));
  const retriever = await lexicalRetriever(documents);
  try {
    options.log(`agent tokens: loading the Qwen3 tokenizer; ${questions.length} questions over ${documents.length} passages…`);
    const tokenizer = await loadQwen3Tokenizer();
    const rows: AgentTokenRow[] = [];
    for (const config of configs(tokenizer)) {
      options.log(`agent tokens: ${config.name}…`);
      rows.push(await measureConfig(config, questions, retriever, tokenizer));
    }
    return { rows, passages: passageCapStats(documents, tokenizer) };
  } finally {
    retriever.close();
  }
}

function dedupe(docs: { title: string; text: string }[]): Document[] {
  const seen = new Map<string, Document>();
  for (const d of docs) seen.set(`${d.title}\n${d.text}`, { id: String(seen.size), ...d });
  return [...seen.values()];
}

async function measureConfig(config: Config, questions: readonly BenchQuestion[], retriever: Retriever, tokenizer: Qwen3Tokenizer): Promise<AgentTokenRow> {
  const perQuestion: QuestionCost[] = [];
  for (const q of questions) {
    const engine = new PlausibleEngine(q);
    const started = performance.now();
    let searches = 0;
    let selfAnswered = 0;
    for await (const event of runAgent(q.question, { engine, retriever }, { policy: config.policy, ...config.agent })) {
      if (event.type === 'search') searches++;
      if (event.type === 'plan' && event.plan.mode === 'self-answer') selfAnswered = 1;
    }
    const agentMs = performance.now() - started - engine.engineMs;
    perQuestion.push({ ...costOf(engine.calls, tokenizer), searches, selfAnswered, agentMs });
  }
  const avg = (key: keyof QuestionCost) => mean(perQuestion.map((c) => c[key]));
  return {
    config: config.name,
    questions: questions.length,
    selfAnswered: avg('selfAnswered'),
    searches: avg('searches'),
    engineCalls: avg('engineCalls'),
    decoded: avg('decoded'),
    prefillNoReuse: avg('prefillNoReuse'),
    prefillPrefixReuse: avg('prefillPrefixReuse'),
    prefillMessageReuse: avg('prefillMessageReuse'),
    prefillMessageReuseVerbatim: avg('prefillMessageReuseVerbatim'),
    informationTokens: avg('informationTokens'),
    peakPromptTokens: Math.max(...perQuestion.map((c) => c.peakPromptTokens)),
    agentMs: avg('agentMs'),
  };
}

/** One question's costs: a row's fields before they are averaged over the questions. */
type QuestionCost = Omit<AgentTokenRow, 'config' | 'questions'>;

function costOf(calls: readonly EngineCall[], tokenizer: Qwen3Tokenizer): Omit<QuestionCost, 'searches' | 'selfAnswered' | 'agentMs'> {
  const prompts = calls.map((c) => tokenizer.ids(tokenizer.promptText(c.messages, c.thinking)));
  const decoded = calls.map((c) => tokenizer.ids(c.decoded));
  const last = calls.at(-1)?.messages ?? [];
  return {
    engineCalls: calls.length,
    decoded: decoded.reduce((s, d) => s + d.length, 0),
    prefillNoReuse: prompts.reduce((s, p) => s + p.length, 0),
    prefillPrefixReuse: prefixReuse(prompts, decoded),
    prefillMessageReuse: messageReuse(calls, prompts, tokenizer, false),
    prefillMessageReuseVerbatim: messageReuse(calls, prompts, tokenizer, true),
    informationTokens: last.filter((m) => m.content.startsWith('<information>')).reduce((s, m) => s + tokenizer.count(m.content), 0),
    peakPromptTokens: Math.max(0, ...prompts.map((p) => p.length)),
  };
}

/** llama.cpp: prefill from the first token that differs from the cache; at least one token is evaluated. */
function prefixReuse(prompts: readonly number[][], decoded: readonly number[][]): number {
  let cache: number[] = [];
  let total = 0;
  prompts.forEach((prompt, i) => {
    total += Math.max(1, prompt.length - commonPrefix(cache, prompt));
    cache = [...prompt, ...(decoded[i] ?? [])];
  });
  return total;
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/**
 * WebLLM: reuse when the request's messages before the last equal the previous conversation plus the
 * reply as the engine recorded it (its text, stop string cut). `verbatim` asks what reuse would be if the
 * agent sent the reply back exactly so, instead of the reply with its closing tag restored.
 */
function messageReuse(calls: readonly EngineCall[], prompts: readonly number[][], tokenizer: Qwen3Tokenizer, verbatim: boolean): number {
  let conversation: ChatMessage[] | null = null;
  let total = 0;
  calls.forEach((call, i) => {
    const history = call.messages.slice(0, -1);
    const reused = conversation !== null && sameMessages(history, conversation, verbatim ? call : null);
    total += reused ? tokenizer.count(newTurnText(call)) : (prompts[i]?.length ?? 0);
    conversation = [...call.messages, { role: 'assistant', content: call.returned }];
  });
  return total;
}

function sameMessages(history: readonly ChatMessage[], conversation: readonly ChatMessage[], verbatimFor: EngineCall | null): boolean {
  if (history.length !== conversation.length) return false;
  return history.every((m, i) => {
    const c = conversation[i] as ChatMessage;
    if (m.role !== c.role) return false;
    // The what-if: the last reply counts as verbatim when it is the engine's text plus the stop string.
    const last = i === history.length - 1 && verbatimFor !== null && m.role === 'assistant';
    return m.content === c.content || (last && m.content.startsWith(c.content) && /^<\/(search|answer)>$/.test(m.content.slice(c.content.length)));
  });
}

/** What WebLLM prefills on a reused conversation: the close of the last reply, the new message, the reply header. */
function newTurnText(call: EngineCall): string {
  const message = call.messages.at(-1);
  const header = call.thinking ? '' : '<think>\n\n</think>\n\n';
  return `<|im_end|>\n<|im_start|>${message?.role ?? 'user'}\n${message?.content ?? ''}<|im_end|>\n<|im_start|>assistant\n${header}`;
}

/** What the default cap (chars/4 estimate) keeps of the passages it cuts, in real Qwen3 tokens. */
function passageCapStats(documents: readonly Document[], tokenizer: Qwen3Tokenizer): AgentTokenReport['passages'] {
  const cut = documents.filter((d) => estimateTokens.count(d.text) > DEFAULT_PASSAGE_TOKENS).slice(0, 300);
  const capped = (cut.length ? cut : documents.slice(0, 1)).map((d) => trimToTokens(d.text, DEFAULT_PASSAGE_TOKENS));
  return { cap: DEFAULT_PASSAGE_TOKENS, meanQwen3TokensAtCap: mean(capped.map((t) => tokenizer.count(t))), meanCharsAtCap: mean(capped.map((t) => t.length)) };
}
