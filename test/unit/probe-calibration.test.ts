/**
 * The probe's calibration run in core: each question self-answered (with log-probabilities) and run
 * with always-search, resumable through the one runner, then trained by whatever trainer is passed in.
 */
import { describe, expect, it } from 'vitest';
import type { AgentDeps } from '../../src/core/agent/agent.ts';
import type { BenchQuestion } from '../../src/core/eval/datasets.ts';
import type { GenerateRequest, GenerateResult, LlmEngine } from '../../src/core/agent/engine.ts';
import { alwaysSearch } from '../../src/core/agent/policy.ts';
import { calibrate, calibrated, scoredRows, trainCalibration, withOutcome, type Calibration, type ProbeRow, type ProbeTrainer } from '../../src/core/probe/probe-calibration.ts';
import { trainConfidenceProbe, trainProbe } from '../../src/training/confidence-probe.ts';
import { runResumable } from '../../src/core/eval/resumable-run.ts';
import type { Retriever } from '../../src/core/agent/retriever.ts';
import { ScriptedEngine } from './helpers/scripted-engine.ts';

const QUESTIONS: BenchQuestion[] = [
  { id: 'paris', question: 'What is the capital of France?', answers: ['Paris'] },
  { id: 'garbled', question: 'Which token will not decode?', answers: ['Nothing'] },
  { id: 'lyon', question: 'Where was Ampère born?', answers: ['Lyon'] },
];

/** Self-answers from memory (with log-probabilities, none for "garbled"); the agent's turns come from `agent`. */
class CalibrationEngine implements LlmEngine {
  readonly label = 'calibration-engine';
  readonly capabilities = { grammar: false, logprobs: true };
  constructor(private readonly agent: LlmEngine) {}

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    if (!request.logprobs) return this.agent.generate(request);
    const asked = request.messages.at(-1)?.content ?? '';
    const text = request.maxTokens === 1 ? 'Yes' : asked.includes('France') ? '<answer>Paris' : '<answer>Marseille';
    const usage = { promptTokens: 20, completionTokens: 2 };
    const timings = { prefillMs: 0, decodeMs: 0 };
    if (asked.includes('decode')) return { text, finishReason: 'stop', usage, timings };
    return { text, finishReason: 'stop', usage, timings, logprobs: [{ token: text, logprob: Math.log(0.6) }] };
  }

  async unload(): Promise<void> {}
}

const library: Retriever = { search: async () => [{ id: 'p', title: 'Lyon', text: 'Ampère was born in Lyon.', score: 1 }] };
/** Each always-search run searches once and answers Lyon. */
const searching = () => new ScriptedEngine(QUESTIONS.flatMap(() => ['<search>lookup</search>', '<answer>Lyon</answer>']));
const never = new AbortController().signal;

function emptyCalibration(questions = QUESTIONS): Calibration {
  return { createdAt: 0, engine: 'calibration-engine', dataset: 'test', questions, rows: [], labelThreshold: 0.5, probe: null, threshold: 0.8 };
}

/** The calibration loop as the probe page runs it, stores included. */
async function calibrateAll(deps: AgentDeps, start: Calibration, signal = never): Promise<Calibration> {
  let calibration = start;
  await runResumable({
    questions: start.questions,
    done: calibrated(start),
    signal,
    resumeHint: 'press Resume to go on',
    runOne: (question, s) => calibrate(question, deps, { policy: alwaysSearch }, s),
    store: async (outcome) => void (calibration = withOutcome(calibration, outcome)),
  });
  return calibration;
}

describe('a calibration run', () => {
  it('scores each question both ways, and skips one the engine gave no log-probabilities for', async () => {
    const deps = { engine: new CalibrationEngine(searching()), retriever: library };
    const calibration = await calibrateAll(deps, emptyCalibration());
    expect(calibration.rows.map((r) => [r.id, r.selfAnswer, r.selfF1, r.searchAnswer, r.searchF1, r.searches, r.searchEnd])).toEqual([
      ['paris', 'Paris', 1, 'Lyon', 0, 1, 'answered'],
      ['lyon', 'Marseille', 0, 'Lyon', 1, 1, 'answered'],
    ]);
    expect(calibration.rows[0]?.features).toMatchObject({ answerTokens: 1, pYes: 1 });
    expect(calibration.skipped).toEqual([{ id: 'garbled', reason: expect.stringMatching(/returned no token log-probabilities/) }]);
  });

  it('resumes without asking again for the rows or the skipped questions it has', async () => {
    const agent = searching();
    const done = await calibrateAll({ engine: new CalibrationEngine(agent), retriever: library }, emptyCalibration());
    const again = new CalibrationEngine(new ScriptedEngine([]));
    const resumed = await calibrateAll({ engine: again, retriever: library }, { ...done, questions: [...QUESTIONS, { id: 'new', question: 'Who wrote Hamlet?', answers: ['Shakespeare'] }] });
    expect(resumed.rows.map((r) => r.id)).toEqual(['paris', 'lyon', 'new']);
    expect(resumed.skipped?.map((s) => s.id)).toEqual(['garbled']);
  });

  it('stops at a question whose always-search run failed, keeping the rows before it', async () => {
    const broken = new ScriptedEngine([
      '<search>lookup</search>',
      '<answer>Lyon</answer>',
      () => {
        throw new Error('the GPU was lost');
      },
    ]);
    let kept: Calibration = emptyCalibration();
    const run = runResumable({
      questions: QUESTIONS,
      done: [],
      signal: never,
      resumeHint: 'press Resume to go on',
      runOne: (question, signal) => calibrate(question, { engine: new CalibrationEngine(broken), retriever: library }, { policy: alwaysSearch }, signal),
      store: async (outcome) => void (kept = withOutcome(kept, outcome)),
    });
    await expect(run).rejects.toThrow('question lyon failed: the GPU was lost; the 2 finished questions are kept, press Resume to go on');
    expect(calibrated(kept).map((d) => d.id)).toEqual(['paris', 'garbled']);
  });

  it('gives nothing for a question cancelled during its self-answer attempt', async () => {
    const cancel = new AbortController();
    cancel.abort();
    expect(await calibrate(QUESTIONS[0] as BenchQuestion, { engine: new CalibrationEngine(searching()), retriever: library }, { policy: alwaysSearch }, cancel.signal)).toBeNull();
  });
});

const row = (id: string, selfF1: number): ProbeRow => ({
  id,
  question: `${id}?`,
  answers: ['x'],
  selfAnswer: 'x',
  selfF1,
  selfEm: selfF1 === 1 ? 1 : 0,
  features: { meanLogprob: -selfF1, minLogprob: -1, meanEntropy: 0.5, answerTokens: 2, pYes: selfF1 },
  searchAnswer: 'x',
  searchF1: 1,
  searchEm: 1,
  searches: 2,
  searchEnd: 'answered',
});

describe('training a calibration', () => {
  it('labels self-answers at the threshold, gives each row its confidence and returns the probe', async () => {
    const probe = await trainConfidenceProbe([{ features: row('a', 1).features, label: true }]);
    const seen: { labels: boolean[]; labelThreshold: number }[] = [];
    const trainer: ProbeTrainer = async (examples, labelThreshold) => {
      seen.push({ labels: examples.map((e) => e.label), labelThreshold });
      return { confidences: examples.map((_, i) => i / 10), probe };
    };
    const trained = await trainCalibration([row('a', 0.9), row('b', 0.6), row('c', 0.2)], 0.7, trainer);
    expect(seen).toEqual([{ labels: [true, false, false], labelThreshold: 0.7 }]);
    expect(trained.rows.map((r) => [r.id, r.confidence])).toEqual([
      ['a', 0],
      ['b', 0.1],
      ['c', 0.2],
    ]);
    expect(trained.probe).toBe(probe);
  });

  it("trains the app's probe on the rows, each scored by a probe that did not see it", async () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(`q${i}`, i % 2));
    const trained = await trainCalibration(rows, 0.5, trainProbe);
    expect(trained.probe.data.trainedOn).toEqual({ examples: 10, positives: 5 });
    expect(trained.probe.data.labelThreshold).toBe(0.5);
    expect(scoredRows(trained.rows)).toHaveLength(10);
    for (const scored of scoredRows(trained.rows)) expect(scored.confidence >= 0.5).toBe(scored.selfF1 === 1);
  });

  it('charts only the rows a probe has scored', () => {
    expect(scoredRows([{ ...row('a', 1), confidence: 0.9 }, row('b', 0)])).toEqual([{ confidence: 0.9, selfF1: 1, searchF1: 1, searches: 2, selfEm: 1, searchEm: 1 }]);
  });
});
