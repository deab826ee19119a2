/**
 * The confidence probe: features from an engine's log-probabilities, the MLP trained on them, and the
 * calibration numbers the probe page shows (ECE, reliability bins, the paper's table 2).
 */
import { describe, expect, it } from 'vitest';
import type { EngineCapabilities, GenerateRequest, GenerateResult, LlmEngine, TokenLogprob } from '../../src/core/agent/engine.ts';
import { adaptive } from '../../src/core/agent/policy.ts';
import { answerSpan, entropy, MissingLogprobsError, probabilityOfYes, probeFeatures, ProbeUnsupportedError, type ProbeFeatures } from '../../src/core/probe/probe-features.ts';
import { ConfidenceProbe, labelOf, type ProbeExample } from '../../src/core/probe/probe-model.ts';
import { crossValidatedConfidences, trainConfidenceProbe } from '../../src/training/confidence-probe.ts';
import { atThreshold, binOf, confidenceHistogram, reliability, thresholdTable, topPercent, type CalibrationRow } from '../../src/core/probe/calibration.ts';

const ln = Math.log;
const tok = (token: string, p: number, top?: [string, number][]): TokenLogprob => ({ token, logprob: ln(p), ...(top && { top: top.map(([t, q]) => ({ token: t, logprob: ln(q) })) }) });

/** Answers the self-answer request and the yes/no request with crafted log-probabilities. */
class LogprobEngine implements LlmEngine {
  readonly label = 'logprob-engine';
  readonly requests: GenerateRequest[] = [];
  constructor(
    private readonly answer: TokenLogprob[],
    private readonly yesNo: TokenLogprob[],
    readonly capabilities: EngineCapabilities = { grammar: true, logprobs: true },
    private readonly withLogprobs = true,
  ) {}
  async generate(request: GenerateRequest): Promise<GenerateResult> {
    this.requests.push({ ...request, signal: undefined });
    const tokens = request.maxTokens === 1 ? this.yesNo : this.answer;
    return {
      text: tokens.map((t) => t.token).join(''),
      finishReason: 'stop',
      usage: { promptTokens: 20, completionTokens: tokens.length },
      timings: { prefillMs: 0, decodeMs: 0 },
      ...(this.withLogprobs && { logprobs: tokens }),
    };
  }
  async unload(): Promise<void> {}
}

// "<answer>Paris" (the engine strips the stop string "</answer>"): two answer tokens after three tag tokens.
const ANSWER = [
  tok('<', 0.99),
  tok('answer', 0.99),
  tok('>', 0.99),
  tok('Par', 0.5, [['Par', 0.5], ['Lon', 0.3]]),
  tok('is', 0.9, [['is', 0.9]]),
];
const YES_NO = [tok('Yes', 0.6, [['Yes', 0.6], ['No', 0.2], ['yes', 0.1], ['Maybe', 0.05]])];

describe('probe features from a self-answer attempt', () => {
  it('reads log-probabilities, entropy, length and P(yes) from the answer tokens only', async () => {
    const engine = new LogprobEngine(ANSWER, YES_NO);
    const { features, answer } = await probeFeatures(engine, 'What is the capital of France?');
    expect(answer).toBe('Paris');
    expect(features.answerTokens).toBe(2);
    expect(features.meanLogprob).toBeCloseTo((ln(0.5) + ln(0.9)) / 2, 12);
    expect(features.minLogprob).toBeCloseTo(ln(0.5), 12);
    // "Par": 0.5, 0.3 and the 0.2 left out; "is": 0.9 and 0.1 left out.
    const h = (ps: number[]) => -ps.reduce((s, p) => s + p * ln(p), 0);
    expect(features.meanEntropy).toBeCloseTo((h([0.5, 0.3, 0.2]) + h([0.9, 0.1])) / 2, 9);
    expect(features.pYes).toBeCloseTo(0.7 / 0.9, 12);
  });

  it('asks deterministically, with logprobs, alternatives, no thinking, bounded tokens and the answer grammar', async () => {
    const engine = new LogprobEngine(ANSWER, YES_NO);
    await probeFeatures(engine, 'Who wrote Hamlet?', { maxTokens: 24, topLogprobs: 3 });
    const [attempt, yesNo] = engine.requests;
    expect(attempt).toMatchObject({ logprobs: true, topLogprobs: 3, temperature: 0, thinking: false, maxTokens: 24, stop: ['</answer>'] });
    expect(attempt?.grammar).toContain('"<answer>"');
    expect(attempt?.messages.at(-1)?.content).toBe('Question: Who wrote Hamlet?');
    expect(yesNo).toMatchObject({ logprobs: true, temperature: 0, thinking: false, maxTokens: 1 });
    expect(yesNo?.messages.at(-1)?.content).toMatch(/from memory/);
  });

  it('refuses an engine without log-probabilities, and says so when one returned none for a question', async () => {
    const noCapability = new LogprobEngine(ANSWER, YES_NO, { grammar: false, logprobs: false });
    await expect(probeFeatures(noCapability, 'q')).rejects.toThrow(ProbeUnsupportedError);
    await expect(probeFeatures(noCapability, 'q')).rejects.toThrow(/needs token log-probabilities, and logprob-engine does not report them/);
    expect(noCapability.requests).toHaveLength(0);
    const dropped = new LogprobEngine(ANSWER, YES_NO, { grammar: false, logprobs: true }, false);
    await expect(probeFeatures(dropped, 'q')).rejects.toThrow(MissingLogprobsError);
    await expect(probeFeatures(dropped, 'q')).rejects.toThrow(/logprob-engine returned no token log-probabilities for this question/);
  });

  it('stops at once when cancelled', async () => {
    const engine = new LogprobEngine(ANSWER, YES_NO);
    const controller = new AbortController();
    controller.abort();
    await expect(probeFeatures(engine, 'q', { signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(engine.requests).toHaveLength(0);
  });

  it('P(yes) is 0.5 when neither yes nor no is among the alternatives, and sums the variants', () => {
    expect(probabilityOfYes(tok('\n\n', 0.9, [['\n\n', 0.9], ['Apollo', 0.01]]))).toBe(0.5);
    expect(probabilityOfYes(tok(' YES.', 0.3, [[' no', 0.1], ['No', 0.1]]))).toBeCloseTo(0.6, 12);
    expect(probabilityOfYes(undefined)).toBe(0.5);
  });

  it('entropy counts the mass the alternatives leave out, so a thin top choice does not look sure', () => {
    const thin = tok('a', 0.2, [['a', 0.2], ['b', 0.01], ['c', 0.01]]);
    expect(entropy(thin)).toBeCloseTo(-(0.2 * ln(0.2) + 2 * 0.01 * ln(0.01) + 0.78 * ln(0.78)), 12);
    expect(entropy(thin)).toBeGreaterThan(entropy(tok('a', 0.9, [['a', 0.9]])));
    expect(entropy(tok('a', 1))).toBe(0);
  });

  it('takes the whole reply as the answer when the model wrote no tag', () => {
    expect(answerSpan('<think>hmm</think> Paris')).toMatchObject({ text: 'Paris', start: 0 });
    expect(answerSpan('x <answer> Lyon</answer> y')).toEqual({ text: 'Lyon', start: 10, end: 15 });
  });
});

/** Two clusters: sure, "yes"-saying attempts are right; shaky, "no"-saying ones are wrong. */
function toySet(n: number): ProbeExample[] {
  return Array.from({ length: n }, (_, i) => {
    const right = i % 2 === 0;
    const jitter = ((i * 37) % 11) / 11;
    const features: ProbeFeatures = right
      ? { meanLogprob: -0.2 - 0.2 * jitter, minLogprob: -0.8 - jitter, meanEntropy: 0.3 + 0.2 * jitter, answerTokens: 3 + (i % 3), pYes: 0.8 + 0.15 * jitter }
      : { meanLogprob: -2.5 - jitter, minLogprob: -6 - 2 * jitter, meanEntropy: 1.6 + 0.3 * jitter, answerTokens: 6 + (i % 5), pYes: 0.2 + 0.2 * jitter };
    return { features, label: right };
  });
}

describe('the probe MLP', () => {
  it('learns a separable set, and is the same probe for the same seed', async () => {
    const examples = toySet(40);
    const probe = await trainConfidenceProbe(examples, { seed: 7 });
    for (const e of examples) expect(probe.predict(e.features) >= 0.5).toBe(e.label);
    const right = examples.filter((e) => e.label).map((e) => probe.predict(e.features));
    const wrong = examples.filter((e) => !e.label).map((e) => probe.predict(e.features));
    expect(Math.min(...right)).toBeGreaterThan(0.8);
    expect(Math.max(...wrong)).toBeLessThan(0.2);
    expect((await trainConfidenceProbe(examples, { seed: 7 })).toJSON()).toEqual(probe.toJSON());
    expect((await trainConfidenceProbe(examples, { seed: 8 })).toJSON()).not.toEqual(probe.toJSON());
  });

  it('round-trips through JSON and refuses what is not a probe', async () => {
    const probe = await trainConfidenceProbe(toySet(10), { labelThreshold: 0.65 });
    const back = ConfidenceProbe.fromJSON(JSON.parse(JSON.stringify(probe)));
    for (const e of toySet(10)) expect(back.predict(e.features)).toBe(probe.predict(e.features));
    expect(back.toJSON().labelThreshold).toBe(0.65);
    const json = probe.toJSON();
    expect(() => ConfidenceProbe.fromJSON({ ...json, features: [...json.features].reverse() })).toThrow(/not a confidence probe: .*features must be/);
    expect(() => ConfidenceProbe.fromJSON({ ...json, b1: json.b1.slice(1) })).toThrow(/hidden layer sizes disagree/);
    expect(() => ConfidenceProbe.fromJSON(JSON.parse(JSON.stringify({ ...json, b2: NaN })))).toThrow(/b2/);
    expect(() => ConfidenceProbe.fromJSON('probe')).toThrow(/not a confidence probe/);
  });

  it('learns the base rate from a set with one class only', async () => {
    const examples = toySet(8).map((e) => ({ ...e, label: false }));
    const probe = await trainConfidenceProbe(examples);
    for (const e of examples) expect(probe.predict(e.features)).toBeLessThan(0.2);
  });

  it('scores questions for the adaptive policy through the engine', async () => {
    const probe = await trainConfidenceProbe(toySet(20));
    const engine = new LogprobEngine(ANSWER, YES_NO);
    const confidence = probe.confidenceFn(engine);
    const features = (await probeFeatures(engine, 'q')).features;
    expect(await confidence('q')).toBe(probe.predict(features));
    const plan = await adaptive(confidence, 0).plan('q');
    expect(plan).toMatchObject({ mode: 'self-answer', policy: 'adaptive' });
  });

  it('searches a question the engine returned no log-probabilities for, and refuses an engine without them', async () => {
    const probe = await trainConfidenceProbe(toySet(10));
    const dropped = probe.confidenceFn(new LogprobEngine(ANSWER, YES_NO, { grammar: false, logprobs: true }, false));
    expect(await dropped('q')).toBeNaN();
    expect(await adaptive(dropped, 0.1).plan('q')).toMatchObject({ mode: 'search', confidence: 0 });
    const none = probe.confidenceFn(new LogprobEngine(ANSWER, YES_NO, { grammar: false, logprobs: false }));
    await expect(none('q')).rejects.toThrow(ProbeUnsupportedError);
  });

  it('gives each example a cross-validated confidence from a probe that did not see it', async () => {
    const examples = toySet(20);
    const confidences = await crossValidatedConfidences(examples, { folds: 4 });
    expect(confidences).toHaveLength(20);
    examples.forEach((e, i) => expect((confidences[i] as number) >= 0.5).toBe(e.label));
    expect(await crossValidatedConfidences(examples, { folds: 4 })).toEqual(confidences);
  });

  it('labels a self-answer right at F1 ≥ the threshold', () => {
    expect([labelOf(0.5), labelOf(0.49), labelOf(0.7, 0.8)]).toEqual([true, false, false]);
  });
});

const row = (confidence: number, selfF1: number, searchF1: number, searches: number, em?: [number, number]): CalibrationRow => ({
  confidence,
  selfF1,
  searchF1,
  searches,
  ...(em && { selfEm: em[0], searchEm: em[1] }),
});

describe('calibration', () => {
  it('bins confidences into ten equal bins, 1.0 in the last', () => {
    expect([0, 0.05, 0.1, 0.5, 0.99, 1, NaN, -1, 2].map((c) => binOf(c))).toEqual([0, 0, 1, 5, 9, 9, 0, 0, 9]);
  });

  it('computes reliability bins and ECE by hand', () => {
    const rows = [row(0.05, 0, 0, 1), row(0.15, 1, 0, 1), row(0.85, 1, 0, 1), row(0.95, 1, 0, 1)];
    const { bins, ece } = reliability(rows, 0.5);
    expect(ece).toBeCloseTo(0.25 * (0.05 + 0.85 + 0.15 + 0.05), 12);
    expect(bins[1]).toMatchObject({ count: 1, meanConfidence: 0.15, accuracy: 1 });
    expect(bins[4]?.count).toBe(0);
    expect(bins[4]?.accuracy).toBeNaN();
    // Two in one bin: mean confidence 0.35, one right of two.
    expect(reliability([row(0.31, 1, 0, 0), row(0.39, 0, 0, 0)], 0.5).ece).toBeCloseTo(Math.abs(0.5 - 0.35), 12);
    expect(reliability([], 0.5).ece).toBeNaN();
  });

  it('splits the histogram by whether the self-answer was right', () => {
    const histogram = confidenceHistogram([row(0.05, 0.6, 0, 0), row(0.07, 0.4, 0, 0), row(0.95, 0.5, 0, 0)], 0.5);
    expect(histogram[0]).toMatchObject({ from: 0, to: 0.1, right: 1, wrong: 1 });
    expect(histogram[9]).toMatchObject({ right: 1, wrong: 0 });
  });

  it("computes the paper's table 2 by hand", () => {
    // Ten questions; the most confident two answer well from memory, searching is good everywhere else.
    const rows = [
      row(0.9, 1, 0.5, 2, [1, 0]),
      row(0.8, 1, 1, 1, [1, 1]),
      ...Array.from({ length: 8 }, (_, i) => row(0.1 + i * 0.01, 0, 0.75, 3, [0, 1])),
    ];
    const [always, top1, top5, top10, top20, threshold] = thresholdTable(rows, 0.85);
    expect(always).toMatchObject({ label: 'always search', selfAnswered: 0, searchesPerQuestion: (2 + 1 + 24) / 10 });
    expect(always?.f1).toBeCloseTo((0.5 + 1 + 8 * 0.75) / 10, 12);
    expect(always?.em).toBeCloseTo(0.9, 12);
    expect(always?.selfAnsweredF1).toBeNaN();
    expect(top1?.selfAnswered).toBe(0); // 1% of 10 rounds down to none
    expect(top5?.selfAnswered).toBe(0);
    expect(top10).toMatchObject({ label: 'top 10%', selfAnswered: 1, selfAnsweredF1: 1, searchesPerQuestion: (1 + 24) / 10 });
    expect(top10?.f1).toBeCloseTo((1 + 1 + 6) / 10, 12);
    expect(top10?.searchedF1).toBeCloseTo((1 + 6) / 9, 12);
    expect(top10?.em).toBeCloseTo(1, 12);
    expect(top20).toMatchObject({ selfAnswered: 2, selfAnsweredF1: 1, searchedF1: 0.75, searchesPerQuestion: 2.4 });
    expect(threshold).toMatchObject({ label: 'confidence ≥ 0.85', selfAnswered: 1 });
    // No EM column when a row lacks it.
    expect(thresholdTable([row(0.5, 1, 1, 1)], 0.5)[0]?.em).toBeUndefined();
  });

  it('picks the top P% by confidence, earlier questions first on ties, and thresholds as adaptive() does', () => {
    const rows = [row(0.5, 0, 0, 0), row(0.7, 0, 0, 0), row(0.7, 0, 0, 0), row(NaN, 0, 0, 0)];
    expect(topPercent(rows, 25)).toEqual([false, true, false, false]);
    expect(topPercent(rows, 50)).toEqual([false, true, true, false]);
    expect(atThreshold(rows, 0.7)).toEqual([false, true, true, false]);
    expect(atThreshold(rows, 0)).toEqual([true, true, true, true]);
  });
});
