/**
 * The confidence probe's inputs. WebLLM gives no hidden states, so the probe reads what every engine can
 * give: the token log-probabilities of a self-answer attempt (how sure the model is of each token it
 * writes, and how spread out its alternatives are), the attempt's length, and the probability that the
 * model says "yes" when asked whether it can answer from memory.
 */
import { EngineError, type GenerateRequest, type GenerateResult, type LlmEngine, type TokenLogprob } from '../agent/engine.ts';
import { SELF_ANSWER_PROMPT, questionMessage } from '../agent/prompts.ts';

export interface ProbeFeatures {
  /** Mean log-probability of the answer's tokens (≤ 0; nearer 0 is surer). */
  meanLogprob: number;
  /** The least likely answer token's log-probability: one shaky token is a warning sign. */
  minLogprob: number;
  /** Mean entropy (nats) of the reported alternatives at each answer token. */
  meanEntropy: number;
  answerTokens: number;
  /** P("yes") to "can you answer this from memory?", normalised over the yes/no variants seen. */
  pYes: number;
}

/** The order of the model's input vector; a stored probe records it and is refused if it differs. */
export const FEATURE_NAMES = ['meanLogprob', 'minLogprob', 'meanEntropy', 'answerTokens', 'pYes'] as const satisfies readonly (keyof ProbeFeatures)[];

export function featureVector(features: ProbeFeatures): number[] {
  return FEATURE_NAMES.map((name) => features[name]);
}

export interface ProbeFeatureOptions {
  /** Tokens the self-answer attempt may use: an answer is a short phrase. */
  maxTokens: number;
  /** Alternatives per token for the entropy (1..20). */
  topLogprobs: number;
  /** Alternatives of the one-token yes/no reply, where the yes and no variants are looked for. */
  yesNoTopLogprobs: number;
}

export const DEFAULT_PROBE_FEATURE_OPTIONS: ProbeFeatureOptions = { maxTokens: 40, topLogprobs: 5, yesNoTopLogprobs: 10 };

export interface SelfAnswerProbe {
  features: ProbeFeatures;
  /** The self-answer's text (inside `<answer>` when the model wrote the tag), for scoring it. */
  answer: string;
}

/**
 * No reasoning and no think block: the grammar makes the attempt an answer right away, so every scored
 * token is an answer token and the attempt stays within a few dozen tokens.
 */
const ANSWER_GRAMMAR = 'root ::= "<answer>" [^<\\n]{1,200} "</answer>"';
const YES_NO_SYSTEM = 'Reply with one word: yes or no.';

/** Log-probabilities are the probe's only input; an engine without them cannot be probed. */
export class ProbeUnsupportedError extends EngineError {
  override name = 'ProbeUnsupportedError';
}

/**
 * An engine that reports log-probabilities returned none for one request (wllama 3.8.1 drops them when
 * a token is not valid UTF-8 on its own): this question cannot be scored, the next one may be.
 */
export class MissingLogprobsError extends EngineError {
  override name = 'MissingLogprobsError';
}

const NO_LOGPROBS = (label: string) =>
  `The confidence probe needs token log-probabilities, and ${label} does not report them. Use an engine that does (wllama, WebLLM, or an OpenAI-compatible server with logprobs).`;

export async function probeFeatures(engine: LlmEngine, question: string, options: Partial<ProbeFeatureOptions> & { signal?: AbortSignal } = {}): Promise<SelfAnswerProbe> {
  const settings = { ...DEFAULT_PROBE_FEATURE_OPTIONS, ...options };
  if (!engine.capabilities.logprobs) throw new ProbeUnsupportedError(NO_LOGPROBS(engine.label));
  const attempt = await ask(engine, {
    messages: [
      { role: 'system', content: SELF_ANSWER_PROMPT },
      { role: 'user', content: questionMessage(question) },
    ],
    stop: ['</answer>'],
    maxTokens: settings.maxTokens,
    topLogprobs: settings.topLogprobs,
    ...(engine.capabilities.grammar && { grammar: ANSWER_GRAMMAR }),
    ...(options.signal && { signal: options.signal }),
  });
  const yesNo = await ask(engine, {
    messages: [
      { role: 'system', content: YES_NO_SYSTEM },
      { role: 'user', content: `Can you answer this question from memory, without looking anything up? yes/no\n${questionMessage(question)}` },
    ],
    maxTokens: 1,
    topLogprobs: settings.yesNoTopLogprobs,
    ...(options.signal && { signal: options.signal }),
  });
  const span = answerSpan(attempt.result.text);
  const tokens = tokensWithin(attempt.logprobs, span.start, span.end);
  return { answer: span.text, features: { ...tokenFeatures(tokens.length ? tokens : attempt.logprobs), pYes: probabilityOfYes(yesNo.logprobs[0]) } };
}

/** One deterministic generation with log-probabilities; thinking off so the first token is the reply. */
async function ask(engine: LlmEngine, request: Omit<GenerateRequest, 'logprobs' | 'temperature' | 'thinking'>): Promise<{ result: GenerateResult; logprobs: TokenLogprob[] }> {
  request.signal?.throwIfAborted();
  const result = await engine.generate({ ...request, logprobs: true, temperature: 0, thinking: false });
  if (result.finishReason === 'abort') throw request.signal?.reason ?? new DOMException('probe aborted', 'AbortError');
  if (!result.logprobs?.length) throw new MissingLogprobsError(`${engine.label} returned no token log-probabilities for this question, so the probe cannot score it.`);
  return { result, logprobs: result.logprobs };
}

/** Where the answer's text sits in the reply: inside `<answer>` (closed or cut off), else all of it. */
export function answerSpan(text: string): { text: string; start: number; end: number } {
  const open = text.toLowerCase().indexOf('<answer>');
  if (open < 0) {
    // A model that ignored the format: its plain reply, minus any think block, is its answer.
    const plain = text.replace(/<think>[\s\S]*?(<\/think>|$)/gi, '');
    return { text: plain.trim(), start: 0, end: text.length };
  }
  const start = open + '<answer>'.length;
  const close = text.toLowerCase().indexOf('</answer>', start);
  const end = close < 0 ? text.length : close;
  return { text: text.slice(start, end).trim(), start, end };
}

/** The tokens that start inside [start, end) of the text their pieces spell out. */
function tokensWithin(logprobs: readonly TokenLogprob[], start: number, end: number): TokenLogprob[] {
  const inside: TokenLogprob[] = [];
  let at = 0;
  for (const entry of logprobs) {
    if (at >= start && at < end) inside.push(entry);
    at += entry.token.length;
  }
  return inside;
}

/** Needs at least one token (the caller has checked that the engine returned some). */
function tokenFeatures(tokens: readonly TokenLogprob[]): Omit<ProbeFeatures, 'pYes'> {
  const logprobs = tokens.map((t) => finiteLogprob(t.logprob));
  return {
    meanLogprob: logprobs.reduce((sum, x) => sum + x, 0) / logprobs.length,
    minLogprob: Math.min(...logprobs),
    meanEntropy: tokens.reduce((sum, t) => sum + entropy(t), 0) / tokens.length,
    answerTokens: tokens.length,
  };
}

/** -Infinity (a token the engine deemed impossible) would poison every mean; clamp it. */
const LOGPROB_FLOOR = -30;
const finiteLogprob = (x: number) => (Number.isFinite(x) ? Math.max(LOGPROB_FLOOR, x) : LOGPROB_FLOOR);

/**
 * Entropy of the reported alternatives plus one outcome for the probability mass they leave out. This
 * coarser distribution's entropy is a lower bound of the true one; renormalising the alternatives instead
 * would make a token whose top choice holds only 20% (the rest spread thin) look nearly sure.
 */
export function entropy(token: TokenLogprob): number {
  const alternatives = token.top?.length ? token.top : [token];
  const probabilities = alternatives.map((a) => Math.exp(finiteLogprob(a.logprob)));
  const rest = 1 - probabilities.reduce((sum, p) => sum + p, 0);
  if (rest > 1e-9) probabilities.push(rest);
  const total = probabilities.reduce((sum, p) => sum + p, 0);
  const h = -probabilities.reduce((sum, p) => (p > 0 ? sum + (p / total) * Math.log(p / total) : sum), 0);
  return h > 0 ? h : 0; // no -0 (or rounding below 0) for a certain token
}

/**
 * P(yes) from the first reply token: the chosen token and its alternatives, each variant ("Yes", " yes",
 * "YES.") summed, normalised over yes + no. With neither in sight the model said something else: 0.5,
 * no information either way.
 */
export function probabilityOfYes(token: TokenLogprob | undefined): number {
  if (!token) return 0.5;
  const seen = new Map<string, number>();
  for (const entry of [token, ...(token.top ?? [])]) seen.set(entry.token, entry.logprob);
  let yes = 0;
  let no = 0;
  for (const [piece, logprob] of seen) {
    const word = piece.trim().toLowerCase().replace(/[^a-z]/g, '');
    if (word === 'yes') yes += Math.exp(finiteLogprob(logprob));
    else if (word === 'no') no += Math.exp(finiteLogprob(logprob));
  }
  return yes + no > 0 ? yes / (yes + no) : 0.5;
}
