/** The benchmark runner, its loaders, exports and the ASP trace filter, on hand-checked cases. */
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FILTER, filterSummary, filterTraces, sftFile, sftJsonl } from '../../src/core/eval/asp-filter.ts';
import { QuestionFailedError, runQuestion, summarize, type QuestionResult } from '../../src/core/eval/benchmark.ts';
import { parseDataset, type BenchQuestion } from '../../src/core/eval/datasets.ts';
import { csvCell, resultsCsv, resultsJson, tracesJsonl } from '../../src/core/eval/export.ts';
import { noisyRetriever } from '../../src/core/agent/noise.ts';
import { alwaysSearch } from '../../src/core/agent/policy.ts';
import { ASP_TEACHER_PROMPT, NUDGES, SEARCH_AGENT_PROMPT } from '../../src/core/agent/prompts.ts';
import { mean, percentile } from '../../src/core/eval/stats.ts';
import { hotpotQuestions } from '../shared-data.ts';
import { lexicalRetriever } from './helpers/lexical-retriever.ts';
import { ScriptedEngine, type Reply } from './helpers/scripted-engine.ts';
import { sftRowProblems } from './helpers/sft-schema.ts';

const corpus = await lexicalRetriever([
  { id: 'a', title: 'Ada Lovelace', text: 'Ada Lovelace was born in London in 1815.' },
  { id: 'b', title: 'Charles Babbage', text: 'Charles Babbage designed the Analytical Engine.' },
]);
afterAll(() => corpus.close());

const QUESTIONS: BenchQuestion[] = [
  { id: 'q1', question: 'Where was Ada Lovelace born?', answers: ['London', 'London, England'] },
  { id: 'q2', question: 'What did Charles Babbage design?', answers: ['the Analytical Engine'] },
];

/** Per question: a search, then the scripted answer. */
function engineAnswering(...answers: string[]): ScriptedEngine {
  return new ScriptedEngine(answers.flatMap((a): Reply[] => ['<search>lookup</search>', `<answer>${a}</answer>`]));
}

async function collect(questions: readonly BenchQuestion[], engine: ScriptedEngine): Promise<QuestionResult[]> {
  const results: QuestionResult[] = [];
  for (const question of questions) results.push((await runQuestion(question, { engine, retriever: corpus }, { policy: alwaysSearch })) as QuestionResult);
  return results;
}

describe('dataset loader', () => {
  it('reads FlashRAG lines and the shared IRCoT lines alike', () => {
    const flashRag = JSON.stringify({ id: 7, question: ' Who? ', golden_answers: ['Ada', 'Ada Lovelace'] });
    const shared = hotpotQuestions(2).map((q) => JSON.stringify(q));
    const { questions, skipped } = parseDataset([flashRag, ...shared].join('\n'));
    expect(skipped).toEqual([]);
    expect(questions[0]).toEqual({ id: '7', question: 'Who?', answers: ['Ada', 'Ada Lovelace'] });
    expect(questions[1]).toEqual({ id: expect.any(String), question: hotpotQuestions(1)[0]?.question_text, answers: hotpotQuestions(1)[0]?.answers_objects.flatMap((a) => a.spans) });
  });

  it('reports every bad line with its number and reason', () => {
    const lines = ['{"id": "a", "question": "Q?", "golden_answers": ["x"]}', '{oops', '{"id": "b", "question": "Q?", "golden_answers": []}', '{"id": "a", "question": "Again?", "golden_answers": ["y"]}', '{"question_id": "c", "question_text": "Q?", "answers_objects": [{"spans": []}]}'];
    const { questions, skipped } = parseDataset(lines.join('\n'));
    expect(questions.map((q) => q.id)).toEqual(['a']);
    expect(skipped).toEqual([
      { line: 2, reason: 'not valid JSON' },
      { line: 3, reason: expect.stringContaining('golden_answers') },
      { line: 4, reason: 'duplicate id a' },
      { line: 5, reason: expect.stringContaining('answers') },
    ]);
  });
});

describe('benchmark runner', () => {
  it('scores each answer against its closest gold answer and sums up the cost', async () => {
    const results = await collect(QUESTIONS, engineAnswering('London', 'a steam engine'));
    expect(results.map((r) => [r.id, r.prediction, r.em, r.grounded, r.end])).toEqual([
      ['q1', 'London', 1, true, 'answered'],
      ['q2', 'a steam engine', 0, true, 'answered'],
    ]);
    expect(results[1]?.f1).toBeCloseTo(0.5); // "steam engine" vs "analytical engine": 1 of 2 tokens each way
    const summary = summarize(results);
    expect(summary).toMatchObject({ questions: 2, answered: 2, em: 0.5, searchesPerQuestion: 1 });
    expect(summary.f1).toBeCloseTo(0.75);
    expect(summary.tokensPerQuestion).toBe(mean(results.map((r) => r.stats.promptTokens + r.stats.completionTokens)));
    expect(summary.latencyMs.p95).toBe(Math.max(...results.map((r) => r.stats.wallMs)));
    // The trace keeps the steps but not the streamed deltas; the transcript ends with the answer turn.
    expect(results[0]?.trace.map((e) => e.type)).not.toContain('text');
    expect(results[0]?.transcript.at(-1)).toMatchObject({ role: 'assistant', content: expect.stringContaining('London') });
  });

  it('gives no result for a question cut short by a pause, and refuses to score a failed engine', async () => {
    const pause = new AbortController();
    const paused = new ScriptedEngine([() => (pause.abort(), '<search>lookup</search>')]);
    await expect(runQuestion(QUESTIONS[0] as BenchQuestion, { engine: paused, retriever: corpus }, { policy: alwaysSearch }, pause.signal)).resolves.toBeNull();
    const broken = new ScriptedEngine([() => { throw new Error('the GPU was lost'); }]);
    const failed = runQuestion(QUESTIONS[1] as BenchQuestion, { engine: broken, retriever: corpus }, { policy: alwaysSearch });
    await expect(failed).rejects.toThrow(QuestionFailedError);
    await expect(failed).rejects.toThrow('question q2 failed: the GPU was lost');
  });

  it('fails the given share of retrievals, reproducibly', async () => {
    const failing = (rate: number, seed?: number) => noisyRetriever(corpus, 'fail', rate, seed);
    const always = failing(1);
    expect(await always.search('Ada', 3)).toEqual([]);
    expect(await failing(0).search('Ada', 1)).toHaveLength(1);
    const pattern = async (seed: number) => Promise.all(Array.from({ length: 40 }, async () => (await failing(0.3, seed).search('Ada', 1)).length));
    const noisy = failing(0.3, 9);
    const outcomes = await Promise.all(Array.from({ length: 200 }, async () => (await noisy.search('Ada', 1)).length));
    expect(outcomes.filter((n) => n === 0).length).toBeGreaterThan(30);
    expect(outcomes.filter((n) => n === 0).length).toBeLessThan(90);
    expect(await pattern(5)).toEqual(await pattern(5));
    expect(() => failing(1.5)).toThrow('between 0 and 1');
  });

  it('summary statistics: nearest-rank percentiles and means', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
    expect(mean([1, 2, 6])).toBe(3);
  });
});

function crafted(id: string, overrides: Partial<QuestionResult> & { said?: string }): QuestionResult {
  const said = overrides.said ?? '<think>The passage says London.</think><answer>London</answer>';
  return {
    id,
    question: 'Where was Ada Lovelace born?',
    answers: ['London'],
    prediction: 'London',
    f1: 1,
    em: 1,
    end: 'answered',
    grounded: true,
    stats: { turns: 2, searches: 1, promptTokens: 100, completionTokens: 20, retrievalMs: 3, prefillMs: 10, decodeMs: 30, wallMs: 50 },
    trace: [],
    transcript: [
      { role: 'system', content: SEARCH_AGENT_PROMPT },
      { role: 'user', content: 'Where was Ada Lovelace born?' },
      { role: 'assistant', content: '<search>Ada Lovelace</search>' },
      // A passage may use the phrases; only the model's own words count.
      { role: 'user', content: '<information>I remember: Ada Lovelace was born in London.</information>' },
      { role: 'assistant', content: said },
    ],
    ...overrides,
  };
}

describe('ASP trace filter', () => {
  const traces = [
    crafted('kept', {}),
    crafted('wrong', { prediction: 'Paris', f1: 0, em: 0 }),
    crafted('ungrounded', { grounded: false }),
    crafted('memory', { said: '<think>I recall she was born in London.</think><answer>London</answer>' }),
    crafted('unanswered', { prediction: null, f1: 0, em: 0, end: 'max-turns' }),
    // It guessed first; the agent refused the guess and it searched, but the guess is still a turn of its own.
    crafted('guessed first', {
      transcript: [
        { role: 'system', content: SEARCH_AGENT_PROMPT },
        { role: 'user', content: 'Where was Ada Lovelace born?' },
        { role: 'assistant', content: '<think>Easy.</think><answer>London</answer>' },
        { role: 'user', content: NUDGES.searchFirst },
        { role: 'assistant', content: '<search>Ada Lovelace</search>' },
        { role: 'user', content: '<information>Ada Lovelace was born in London.</information>' },
        { role: 'assistant', content: '<answer>London</answer>' },
      ],
    }),
  ];

  it('keeps only right, grounded, memory-free traces, and says why each other one was dropped', () => {
    const report = filterTraces(traces);
    expect(report.kept.map((r) => r.id)).toEqual(['kept']);
    expect(report.dropped).toEqual([
      { id: 'wrong', reasons: ['low F1'] },
      { id: 'ungrounded', reasons: ['no search before the answer'] },
      { id: 'memory', reasons: ['parametric phrase'], phrase: 'i recall' },
      { id: 'unanswered', reasons: ['not answered', 'low F1'] },
      { id: 'guessed first', reasons: ['no search before the answer'] },
    ]);
    expect(report.counts).toEqual({ 'not answered': 1, 'low F1': 2, 'no search before the answer': 2, 'parametric phrase': 1 });
    expect(filterSummary(report)).toBe('kept 1 of 6 traces; dropped 5: 1 not answered, 2 low F1 (String-F1 below 0.65), 2 no search before the answer, 1 parametric phrase');
    expect(filterSummary(filterTraces(traces.slice(0, 1)))).toBe('kept 1 of 1 trace');
  });

  it('honours a configured phrase list and F1 threshold', () => {
    const report = filterTraces(traces, { minF1: 0, phrases: ['passage says'] });
    expect(report.kept.map((r) => r.id)).toEqual(['memory']);
    expect(DEFAULT_FILTER.minF1).toBe(0.65);
  });

  it('exports kept traces as chat rows whose <information> turns are tool turns, which trainers leave out of the loss', () => {
    const lines = sftJsonl(filterTraces(traces).kept).trim().split('\n');
    expect(lines).toHaveLength(1);
    const example = JSON.parse(lines[0] ?? '') as { id: string; messages: { role: string; content: string }[] };
    expect(example.id).toBe('kept');
    expect(example.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool', 'assistant']);
    expect(example.messages[3]?.content).toBe('<information>I remember: Ada Lovelace was born in London.</information>');
    expect(sftRowProblems(example)).toEqual([]);
  });

  it("gives a teacher's kept trace the app's prompt, the one the small model will be trained for", () => {
    const taught = crafted('taught', {});
    taught.transcript[0] = { role: 'system', content: ASP_TEACHER_PROMPT };
    const [line] = sftJsonl([taught]).trim().split('\n');
    const row = JSON.parse(line ?? '') as { messages: { role: string; content: string }[] };
    expect(row.messages[0]).toEqual({ role: 'system', content: SEARCH_AGENT_PROMPT });
    expect(row.messages.slice(1).map((m) => m.content)).toEqual(taught.transcript.slice(1).map((m) => m.content));
  });

  it('the schema check catches rows a trainer would skip or mislearn', () => {
    const good = JSON.parse(sftJsonl([crafted('kept', {})])) as { messages: { role: string; content: string }[] };
    expect(sftRowProblems({ messages: good.messages.slice(0, -1) })).toContain('the last turn is not the assistant’s');
    expect(sftRowProblems({ messages: good.messages.map((m) => (m.role === 'tool' ? { ...m, role: 'user' } : m)) })).toEqual([]);
    expect(sftRowProblems({ messages: [good.messages[0], good.messages[1], good.messages[1], good.messages[2]] })).toContain('turn 2 is user, LLaMA-Factory expects assistant');
    expect(sftRowProblems({ rows: [] })).toEqual(['messages is not a list of {role, content}']);
  });

  it("writes the Benchmark page's SFT file from real agent runs: the guess the agent refused is dropped, the searched answer is a row both trainers read", async () => {
    // q1 guesses first (refused, then searches and answers); q2 searches first.
    const engine = new ScriptedEngine(['<answer>London</answer>', '<search>Ada Lovelace</search>', '<answer>London</answer>', '<search>Charles Babbage</search>', '<answer>the Analytical Engine</answer>']);
    const results = await collect(QUESTIONS, engine);
    expect(results.map((r) => [r.id, r.f1, r.grounded])).toEqual([['q1', 1, true], ['q2', 1, true]]);
    expect(filterTraces(results).dropped).toEqual([{ id: 'q1', reasons: ['no search before the answer'] }]);
    const rows = (sftFile(results) ?? '').trim().split('\n').map((line) => JSON.parse(line) as { id: string; messages: { role: string }[] });
    expect(rows.map((r) => r.id)).toEqual(['q2']);
    expect(rows.map((r) => r.messages.map((m) => m.role))).toEqual([['system', 'user', 'assistant', 'tool', 'assistant']]);
    expect(rows.map(sftRowProblems)).toEqual([[]]);
  });

  it('gives no SFT file for a run in which no trace passed, so the page can say so', () => {
    expect(sftFile(traces.slice(1))).toBeNull();
    expect(sftFile([])).toBeNull();
    expect(sftFile(traces)).toBe(sftJsonl(filterTraces(traces).kept));
  });
});

describe('exports', () => {
  it('writes CSV that spreadsheets read back unchanged and never run as a formula', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a, "b"\nc')).toBe('"a, ""b""\nc"');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('-1+2')).toBe("'-1+2");
    expect(csvCell(-1)).toBe('-1');
    const csv = resultsCsv([crafted('kept', { prediction: '=cmd|calc' })]).split('\r\n');
    expect(csv[0]).toBe('id,question,prediction,answers,f1,em,end,grounded,searches,prompt_tokens,completion_tokens,wall_ms,retrieval_ms,prefill_ms,decode_ms');
    expect(csv[1]).toBe("kept,Where was Ada Lovelace born?,'=cmd|calc,London,1,1,answered,true,1,100,20,50,3,10,30");
  });

  it('writes results JSON with summary and settings but no traces, and one trace per JSONL line', () => {
    const results = [crafted('a', {}), crafted('b', {})];
    const json = JSON.parse(resultsJson(summarize(results), results, { policy: 'always-search' })) as { settings: object; summary: { questions: number }; results: object[] };
    expect(json.summary.questions).toBe(2);
    expect(json.settings).toEqual({ policy: 'always-search' });
    expect(json.results[0]).not.toHaveProperty('trace');
    expect(tracesJsonl(results).trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(['a', 'b']);
  });
});
