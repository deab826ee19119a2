/**
 * A scripted stand-in for the model, for measuring prompt sizes (never model quality): it writes the
 * turns a competent always-search model writes on a HotpotQA question — a short thought, a search for the
 * first hop, then one for each gold page the results have not shown yet (at most three), then the gold
 * answer — and condenses results like a reason-in-document step would. It honours stop strings and
 * token limits as an engine does, and records every call for the token accounting.
 */
import type { ChatMessage, EngineCapabilities, GenerateRequest, GenerateResult, LlmEngine } from '../../src/core/agent/engine.ts';
import { REASON_IN_DOCUMENT_PROMPT, SELF_ANSWER_PROMPT } from '../../src/core/agent/prompts.ts';

export interface BenchQuestion {
  question: string;
  answer: string;
  goldTitles: string[];
}

export interface EngineCall {
  messages: ChatMessage[];
  thinking: boolean;
  /** Everything the model decoded, the stop string included. */
  decoded: string;
  /** What the engine returned: `decoded` cut before the stop string. */
  returned: string;
  /** The stop string the reply ended on, if any. */
  stoppedOn?: string;
}

const MAX_SEARCHES = 3;
const STOPWORDS = new Set('a an the of in on at to for by with from and or is was were are be which who whom what when where how did does do that this as its his her their than'.split(' '));

export class PlausibleEngine implements LlmEngine {
  readonly label = 'plausible (scripted)';
  readonly capabilities: EngineCapabilities = { grammar: false, logprobs: false };
  readonly calls: EngineCall[] = [];
  /** Wall time spent inside generate(), to separate the agent's own overhead from the "model". */
  engineMs = 0;

  constructor(private readonly q: BenchQuestion) {}

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const started = performance.now();
    const decoded = this.reply(request.messages);
    const stoppedOn = request.stop?.find((s) => decoded.includes(s));
    const returned = stoppedOn ? decoded.slice(0, decoded.indexOf(stoppedOn)) : decoded;
    this.calls.push({ messages: structuredClone(request.messages), thinking: request.thinking ?? false, decoded: stoppedOn ? returned + stoppedOn : decoded, returned, ...(stoppedOn && { stoppedOn }) });
    request.onText?.(returned);
    const ms = performance.now() - started;
    this.engineMs += ms;
    return { text: returned, finishReason: 'stop', usage: { promptTokens: 0, completionTokens: Math.ceil(decoded.length / 4) }, timings: { prefillMs: 0, decodeMs: ms } };
  }

  async unload(): Promise<void> {}

  private reply(messages: readonly ChatMessage[]): string {
    const system = messages[0]?.content;
    if (system === REASON_IN_DOCUMENT_PROMPT) return condense(messages.at(-1)?.content ?? '');
    if (system === SELF_ANSWER_PROMPT) return `<think>I remember this one: it is ${this.q.answer}.</think>\n<answer>${this.q.answer}</answer>`;
    return this.searchTurn(messages);
  }

  private searchTurn(messages: readonly ChatMessage[]): string {
    const results = messages.filter((m) => m.role === 'user' && m.content.startsWith('<information>')).map((m) => m.content);
    const seen = results.join('\n');
    // A gold page counts as found when a result is from it (a passage header, or a condensed "Title: …"),
    // not when another page merely mentions it.
    const missing = this.q.goldTitles.filter((t) => !seen.includes(`(Title: ${t})`) && !seen.includes(`${t}: `));
    const searched = messages.filter((m) => m.role === 'assistant').map((m) => /<search>([^<]*)/.exec(m.content)?.[1] ?? '');
    if (results.length === 0) return `<think>The question asks: ${this.q.question} I will look up the first fact it depends on.</think>\n<search>${keywords(this.q.question)}</search>`;
    const next = missing.find((t) => !searched.includes(t));
    if (results.length >= MAX_SEARCHES || next === undefined) {
      return `<think>The results name what I need. Putting the facts together, the answer is ${this.q.answer}.</think>\n<answer>${this.q.answer}</answer>`;
    }
    const last = results.at(-1) ?? '';
    const read = /Doc 1 \(Title: (.*?)\) ((?:\S+\s+){0,12})/.exec(last);
    const note = read ? `${read[1]} says: ${read[2]?.trim()}` : 'The results did not help.';
    return `<think>${note} Next I need the page on ${next}.</think>\n<search>${next}</search>`;
  }
}

/** The content words of a question, as a small model phrases its first query. */
function keywords(question: string): string {
  const words = question.replace(/[?"]/g, '').split(/\s+/).filter((w) => w && !STOPWORDS.has(w.toLowerCase()));
  return words.slice(0, 8).join(' ');
}

/** A reason-in-document reply: the first sentence of up to three results, naming their pages. Titles may hold parentheses, hence the lazy match up to ") ". */
function condense(request: string): string {
  const docs = [...request.matchAll(/Doc \d+ \(Title: (.*?)\) ([^\n]*)/g)].slice(0, 3);
  if (docs.length === 0) return 'No relevant information.';
  return docs.map(([, title, text]) => `${title}: ${/^[^.]*\.?/.exec(text ?? '')?.[0] ?? ''}`).join(' ');
}
