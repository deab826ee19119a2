/**
 * The agent loop: think, act, read, repeat — as an async iterator of events a UI, a worker, a benchmark
 * or a test can consume alike. Every loop is bounded (turns, tokens per turn, total tokens, repeated
 * queries, an optional deadline) and every run ends with an `end` event that says why.
 */
import type { ChatMessage, GenerateRequest, GenerateResult, LlmEngine } from './engine.ts';
import type { Passage, Retriever } from './retriever.ts';
import type { Plan, Policy } from './policy.ts';
import { traceGrammar, type AllowedActions } from './grammar.ts';
import { normalizeAnswer } from '../eval/metrics.ts';
import {
  DEFAULT_PASSAGE_TOKENS,
  NUDGES,
  REASON_IN_DOCUMENT_PROMPT,
  SEARCH_AGENT_PROMPT,
  SELF_ANSWER_PROMPT,
  formatPassages,
  informationMessage,
  questionMessage,
  reasonInDocumentMessage,
  type PassageBudget,
} from './prompts.ts';
import { estimateTokens, type TokenCounter } from './token-budget.ts';
import { readTurn, type Action, type Turn, type TurnProblem } from './turn.ts';
import { streamWhile, untilAborted } from './stream.ts';
import { errorMessage } from '../util/error-message.ts';

export interface AgentOptions {
  policy: Policy;
  topK: number;
  /** Model steps, refused ones included. */
  maxTurns: number;
  maxTokensPerTurn: number;
  /** Tokens the model may generate over the whole run, reason-in-document included. */
  maxTotalTokens: number;
  /** Repeats of an earlier query that are answered with a nudge; one more ends the run. */
  maxRepeatedQueries: number;
  reasonInDocument: boolean;
  maxObservationTokens: number;
  /** Each passage is cut to this many tokens (at a word end) before the model reads it. */
  maxPassageTokens: number;
  /** Counts tokens for the passage cut: the engine's tokenizer where one is at hand, else a chars/4 estimate. */
  tokenCounter?: TokenCounter;
  /** Constrain output to the trace syntax where the engine supports grammars. */
  grammar: boolean;
  /** Qwen3's native thinking mode (see GenerateRequest.thinking). */
  thinking: boolean;
  /** The system prompt of a searching run: the app's own unless a teacher run gives its own (`npm run eval -- --teacher`). */
  searchPrompt?: string;
  temperature: number;
  /** Wall-time limit of the run in ms; none when undefined. */
  deadlineMs?: number;
  signal?: AbortSignal;
}

export type AgentConfig = Partial<AgentOptions> & Pick<AgentOptions, 'policy'>;

export const DEFAULT_AGENT_OPTIONS: Omit<AgentOptions, 'policy'> = {
  topK: 3,
  maxTurns: 6,
  maxTokensPerTurn: 512,
  maxTotalTokens: 4096,
  maxRepeatedQueries: 1,
  reasonInDocument: false,
  maxObservationTokens: 200,
  maxPassageTokens: DEFAULT_PASSAGE_TOKENS,
  grammar: true,
  thinking: false,
  temperature: 0,
};

export interface AgentDeps {
  engine: LlmEngine;
  retriever: Retriever;
  now?: () => number;
}

export interface RunStats {
  turns: number;
  searches: number;
  promptTokens: number;
  completionTokens: number;
  retrievalMs: number;
  prefillMs: number;
  decodeMs: number;
  wallMs: number;
}

export type EndReason = 'answered' | 'max-turns' | 'max-total-tokens' | 'repeated-query' | 'cancelled' | 'timeout' | 'error';

export type RefusalReason = TurnProblem | 'answer-before-search' | 'search-not-allowed' | 'repeated-query';

export type AgentEvent =
  | { type: 'plan'; plan: Plan }
  | { type: 'turn'; turn: number }
  | { type: 'text'; turn: number; delta: string }
  | { type: 'thought'; turn: number; text: string }
  | { type: 'search'; turn: number; query: string }
  | { type: 'passages'; turn: number; query: string; passages: Passage[]; ms: number }
  | { type: 'observation'; turn: number; text: string }
  | { type: 'refusal'; turn: number; reason: RefusalReason; message: string }
  | { type: 'answer'; turn: number; text: string; grounded: boolean }
  | { type: 'stats'; stats: RunStats }
  | { type: 'error'; message: string }
  /** `transcript` is the conversation as the model saw it, its final turn included (for SFT exports). */
  | { type: 'end'; reason: EndReason; answer?: string; stats: RunStats; transcript: ChatMessage[] };

const STOP = ['</search>', '</answer>'];

/** How long an aborted engine call may take to hand back its partial result before the run ends without it. */
const ABORT_GRACE_MS = 1000;

export async function* runAgent(question: string, deps: AgentDeps, config: AgentConfig): AsyncGenerator<AgentEvent, void> {
  yield* new AgentRun(question, deps, { ...DEFAULT_AGENT_OPTIONS, ...config }).events();
}

type StepOutcome = { end: EndReason; answer?: string } | null;

class AgentRun {
  private readonly now: () => number;
  private readonly controller = new AbortController();
  private readonly signal: AbortSignal;
  private readonly messages: ChatMessage[] = [];
  private readonly queries = new Set<string>();
  private repeats = 0;
  private plan: Plan | null = null;
  private readonly stats: RunStats = { turns: 0, searches: 0, promptTokens: 0, completionTokens: 0, retrievalMs: 0, prefillMs: 0, decodeMs: 0, wallMs: 0 };
  private readonly started: number;
  private timedOut = false;

  constructor(
    private readonly question: string,
    private readonly deps: AgentDeps,
    private readonly options: AgentOptions,
  ) {
    this.now = deps.now ?? (() => performance.now());
    this.started = this.now();
    this.signal = options.signal ? AbortSignal.any([this.controller.signal, options.signal]) : this.controller.signal;
  }

  /**
   * Our own timer rather than AbortSignal.timeout: Node may garbage-collect a timeout signal that only
   * AbortSignal.any refers to, and then the deadline never fires.
   */
  private startDeadline(): () => void {
    if (this.options.deadlineMs === undefined) return () => undefined;
    const timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(new DOMException('the run passed its deadline', 'TimeoutError'));
    }, this.options.deadlineMs);
    return () => clearTimeout(timer);
  }

  async *events(): AsyncGenerator<AgentEvent, void> {
    let outcome: StepOutcome = null;
    const stopDeadline = this.startDeadline();
    try {
      this.plan = await this.options.policy.plan(this.question, this.signal);
      yield { type: 'plan', plan: this.plan };
      this.messages.push(
        { role: 'system', content: this.plan.mode === 'search' ? (this.options.searchPrompt ?? SEARCH_AGENT_PROMPT) : SELF_ANSWER_PROMPT },
        { role: 'user', content: questionMessage(this.question) },
      );
      while (!outcome) outcome = this.checkBounds() ?? (yield* this.step());
    } catch (error) {
      outcome = { end: this.abortReason() ?? 'error' };
      if (outcome.end === 'error') yield { type: 'error', message: errorMessage(error) };
    } finally {
      stopDeadline();
      // A consumer that stops iterating early must not leave an engine call running.
      this.controller.abort();
    }
    yield { type: 'end', reason: outcome.end, ...(outcome.answer !== undefined && { answer: outcome.answer }), stats: this.snapshot(), transcript: [...this.messages] };
  }

  private abortReason(): EndReason | null {
    if (this.options.signal?.aborted) return 'cancelled';
    return this.timedOut ? 'timeout' : null;
  }

  private checkBounds(): StepOutcome {
    const aborted = this.abortReason();
    if (aborted) return { end: aborted };
    if (this.stats.turns >= this.options.maxTurns) return { end: 'max-turns' };
    if (this.tokensLeft() <= 0) return { end: 'max-total-tokens' };
    return null;
  }

  private tokensLeft(): number {
    return this.options.maxTotalTokens - this.stats.completionTokens;
  }

  private async *step(): AsyncGenerator<AgentEvent, StepOutcome> {
    const turn = ++this.stats.turns;
    yield { type: 'turn', turn };
    const result = yield* this.generate(
      {
        messages: this.messages,
        stop: STOP,
        maxTokens: Math.min(this.options.maxTokensPerTurn, this.tokensLeft()),
        ...this.grammarFor(this.allowedActions()),
      },
      turn,
    );
    const read = readTurn(result.text, result.finishReason);
    for (const text of read.thoughts) yield { type: 'thought', turn, text };
    const outcome = yield* this.act(turn, read);
    yield { type: 'stats', stats: this.snapshot() };
    return outcome;
  }

  private allowedActions(): AllowedActions {
    if (this.plan?.mode === 'self-answer') return 'answer';
    return this.stats.searches === 0 ? 'search' : 'search-or-answer';
  }

  private grammarFor(allowed: AllowedActions): Pick<GenerateRequest, 'grammar'> {
    return this.options.grammar && this.deps.engine.capabilities.grammar ? { grammar: traceGrammar(allowed) } : {};
  }

  private async *act(turn: number, read: Turn): AsyncGenerator<AgentEvent, StepOutcome> {
    const refusal = this.refusalFor(read.action, read.problem);
    if (refusal) {
      if (refusal.reason === 'repeated-query' && ++this.repeats > this.options.maxRepeatedQueries) return { end: 'repeated-query' };
      yield { type: 'refusal', turn, ...refusal };
      this.messages.push({ role: 'assistant', content: read.kept }, { role: 'user', content: refusal.message });
      return null;
    }
    const action = read.action as Action;
    if (action.kind === 'answer') {
      yield { type: 'answer', turn, text: action.text, grounded: this.stats.searches > 0 };
      this.messages.push({ role: 'assistant', content: read.kept });
      return { end: 'answered', answer: action.text };
    }
    const information = yield* this.search(turn, action.query);
    this.messages.push({ role: 'assistant', content: read.kept }, { role: 'user', content: informationMessage(information) });
    return null;
  }

  private refusalFor(action: Action | null, problem: TurnProblem | undefined): { reason: RefusalReason; message: string } | null {
    if (!action) {
      const reason = problem ?? 'no-action';
      const message = { 'no-action': NUDGES.noAction, 'empty-action': NUDGES.noAction, 'cut-off': NUDGES.cutOff, 'forged-information': NUDGES.forgedInformation }[reason];
      return { reason, message };
    }
    const searching = this.plan?.mode === 'search';
    if (action.kind === 'answer') return searching && this.stats.searches === 0 ? { reason: 'answer-before-search', message: NUDGES.searchFirst } : null;
    if (!searching) return { reason: 'search-not-allowed', message: NUDGES.noSearchAllowed };
    return this.queries.has(normalizeAnswer(action.query)) ? { reason: 'repeated-query', message: NUDGES.repeatedQuery(action.query) } : null;
  }

  /** Runs one search and returns the text the model will read inside `<information>`. */
  private async *search(turn: number, query: string): AsyncGenerator<AgentEvent, string> {
    this.queries.add(normalizeAnswer(query));
    this.stats.searches++;
    yield { type: 'search', turn, query };
    const started = this.now();
    const passages = await untilAborted(this.deps.retriever.search(query, this.options.topK, this.signal), this.signal);
    const ms = this.now() - started;
    this.stats.retrievalMs += ms;
    yield { type: 'passages', turn, query, passages, ms };
    if (!this.options.reasonInDocument || passages.length === 0) return formatPassages(passages, this.passageBudget());
    const observation = yield* this.condense(turn, query, passages);
    yield { type: 'observation', turn, text: observation };
    return observation;
  }

  /** The reason-in-document step: the model condenses the passages before it reads them. */
  private async *condense(turn: number, query: string, passages: Passage[]): AsyncGenerator<AgentEvent, string> {
    const result = yield* this.generate(
      {
        messages: [
          { role: 'system', content: REASON_IN_DOCUMENT_PROMPT },
          { role: 'user', content: reasonInDocumentMessage(this.question, query, passages, this.passageBudget()) },
        ],
        maxTokens: Math.max(1, Math.min(this.options.maxObservationTokens, this.tokensLeft())),
        thinking: false,
      },
      turn,
      false,
    );
    // A condenser that thinks aloud or writes tags is trimmed to its plain text.
    const plain = result.text.replace(/<think>[\s\S]*?(<\/think>|$)/gi, '').trim();
    return plain || formatPassages(passages, this.passageBudget());
  }

  private passageBudget(): PassageBudget {
    return { maxTokens: this.options.maxPassageTokens, counter: this.options.tokenCounter ?? estimateTokens };
  }

  private async *generate(
    request: Omit<GenerateRequest, 'signal' | 'onText' | 'temperature'>,
    turn: number,
    streamText = true,
  ): AsyncGenerator<AgentEvent, GenerateResult> {
    const started = this.now();
    let streamed = '';
    const result = yield* streamWhile<AgentEvent, GenerateResult>((emit) => {
      const onText = (delta: string): void => {
        streamed += delta;
        if (streamText) emit({ type: 'text', turn, delta });
      };
      const call = this.deps.engine.generate({ thinking: this.options.thinking, ...request, temperature: this.options.temperature, signal: this.signal, onText });
      return untilAborted(call, this.signal).catch(async (error: unknown) => {
        if (!this.signal.aborted) throw error;
        // A cancel or a deadline: what the model wrote until then still cost tokens and time.
        const partial = await this.partialResult(call, { request, streamed, started });
        this.account(partial);
        if (streamText) for (const text of readTurn(partial.text, 'abort').thoughts) emit({ type: 'thought', turn, text });
        emit({ type: 'stats', stats: this.snapshot() });
        throw error;
      });
    });
    this.account(result);
    if (result.finishReason === 'abort') throw new DOMException('generation aborted', 'AbortError');
    return result;
  }

  /**
   * The aborted call's own result (engines end an aborted generation with its usage and timings), or,
   * from an engine that fails or does not let go in time, what streamed: its tokens as counted here and
   * the call's wall time as decoding.
   */
  private async partialResult(call: Promise<GenerateResult>, seen: { request: Pick<GenerateRequest, 'messages'>; streamed: string; started: number }): Promise<GenerateResult> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ABORT_GRACE_MS)));
    const reported = await Promise.race([call.catch(() => null), late]).finally(() => clearTimeout(timer));
    if (reported) return reported;
    const counter = this.options.tokenCounter ?? estimateTokens;
    return {
      text: seen.streamed,
      finishReason: 'abort',
      usage: { promptTokens: seen.request.messages.reduce((sum, m) => sum + counter.count(m.content), 0), completionTokens: counter.count(seen.streamed) },
      timings: { prefillMs: 0, decodeMs: this.now() - seen.started },
    };
  }

  private account(result: GenerateResult): void {
    this.stats.promptTokens += result.usage.promptTokens;
    this.stats.completionTokens += result.usage.completionTokens;
    this.stats.prefillMs += result.timings.prefillMs;
    this.stats.decodeMs += result.timings.decodeMs;
  }

  private snapshot(): RunStats {
    return { ...this.stats, wallMs: this.now() - this.started };
  }
}
