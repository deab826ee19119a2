/**
 * `npm run eval` end to end in Node: a real index (USE-lite, BM25), the shared HotpotQA questions, and
 * an OpenAI-compatible server on 127.0.0.1 scripted to search once and then answer. The script checks
 * the runner and the CLI (files, numbers, resume), not a model.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hotpotQuestions } from '../shared-data.ts';
import { buildSmallIndex } from '../tools/small-index.ts';
import { hasSearched, startScriptedOpenAi, type ScriptedServer } from '../tools/scripted-openai.ts';
import { ASP_TEACHER_PROMPT, SEARCH_AGENT_PROMPT } from '../../src/core/agent/prompts.ts';
import { sftRowProblems } from './helpers/sft-schema.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const questions = hotpotQuestions(3);
/** The scripted model answers the first question right and the others wrong. */
const answerFor = (question: string) => (question.includes(questions[0]?.question_text ?? '-') ? (questions[0]?.answers_objects[0]?.spans[0] ?? '') : 'Atlantis');

let server: ScriptedServer;
let baseUrl = '';
let indexDir = '';
let dataset = '';
const asked: string[] = [];

beforeAll(async () => {
  indexDir = mkdtempSync(join(tmpdir(), 'sdg-eval-index-'));
  await buildSmallIndex(indexDir, 3);
  dataset = join(indexDir, 'questions.jsonl');
  writeFileSync(dataset, questions.map((q) => JSON.stringify(q)).join('\n'));
  server = await startScriptedOpenAi((messages) => {
    const question = messages[1]?.content ?? '';
    if (!hasSearched(messages)) asked.push(question);
    return hasSearched(messages) ? `<answer>${answerFor(question)}</answer>` : `<search>${question.slice(0, 60)}</search>`;
  });
  baseUrl = server.baseUrl;
});

afterAll(() => server.close());

/** Asynchronous: the scripted server answers from this process while the CLI runs. */
function evalCli(...args: string[]): Promise<{ status: number | null; output: string }> {
  return evalCliAt(baseUrl, ...args);
}

function evalCliAt(url: string, ...args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/eval.ts', '--dataset', dataset, '--base-url', url, '--model', 'scripted', '--index', indexDir, ...args], { cwd: ROOT });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('close', (status) => done({ status, output }));
  });
}

describe('npm run eval', () => {
  it('scores a run, writes every export, and resumes without redoing finished questions', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sdg-eval-out-'));
    const first = await evalCli('--out', out, '--limit', '1');
    expect(first.status, first.output).toBe(0);
    asked.length = 0;
    const second = await evalCli('--out', out, '--limit', '3');
    expect(second.status, second.output).toBe(0);
    expect(second.output).toContain('resuming: 1 of 3 questions already done');
    expect(asked).toEqual([expect.stringContaining(questions[1]?.question_text ?? '?'), expect.stringContaining(questions[2]?.question_text ?? '?')]);

    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as { summary: { questions: number; f1: number; em: number; searchesPerQuestion: number; tokensPerQuestion: number }; results: { id: string; f1: number; prediction: string }[] };
    expect(json.summary).toMatchObject({ questions: 3, searchesPerQuestion: 1, tokensPerQuestion: 220 });
    expect(json.results.map((r) => r.prediction)).toEqual([answerFor(questions[0]?.question_text ?? ''), 'Atlantis', 'Atlantis']);
    expect(json.summary.f1).toBeCloseTo(json.results.reduce((s, r) => s + r.f1, 0) / 3);
    expect(json.summary.em).toBeCloseTo(1 / 3);
    expect(readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\r\n')).toHaveLength(4);
    expect(readFileSync(join(out, 'traces.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    // Only the right, grounded answer survives the ASP filter, as a row both trainers read.
    const rows = readFileSync(join(out, 'sft.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { id: string; messages: { role: string }[] });
    expect(rows.map((r) => r.id)).toEqual([json.results[0]?.id]);
    expect(rows.map((r) => r.messages.map((m) => m.role))).toEqual([['system', 'user', 'assistant', 'tool', 'assistant']]);
    expect(rows.map(sftRowProblems)).toEqual([[]]);
    expect(second.output).toContain('ASP filter: kept 1 of 3 traces; dropped 2: 2 low F1 (String-F1 below 0.65)');
  });

  it('refuses to mix runs with different settings, and reports bad flags clearly', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sdg-eval-out-'));
    expect((await evalCli('--out', out, '--limit', '1')).status).toBe(0);
    const mixed = await evalCli('--out', out, '--limit', '1', '--top-k', '5');
    expect(mixed.status).toBe(1);
    expect(mixed.output).toContain('holds a run with other settings');
    const bad = await evalCli('--out', out, '--retrieval', 'telepathy');
    expect(bad.output).toContain('--retrieval must be one of hybrid, lexical, dense');
  });

  it('spoils searches as the app does: --noise 1 fails every one, --noise-kind distract returns the next-best passages', async () => {
    const searched = async (...args: string[]): Promise<string[]> => {
      const out = mkdtempSync(join(tmpdir(), 'sdg-eval-out-'));
      const run = await evalCli('--out', out, '--limit', '1', ...args);
      expect(run.status, run.output).toBe(0);
      const [line] = readFileSync(join(out, 'traces.jsonl'), 'utf8').trim().split('\n');
      const { trace } = JSON.parse(line ?? '') as { trace: { type: string; passages?: { id: string }[] }[] };
      return trace.flatMap((e) => (e.type === 'passages' ? (e.passages ?? []).map((p) => p.id) : []));
    };
    const plain = await searched();
    expect(plain).toHaveLength(3);
    expect(await searched('--noise', '1')).toEqual([]);
    const distracted = await searched('--noise', '1', '--noise-kind', 'distract');
    expect(distracted.length).toBeGreaterThan(0);
    expect(distracted.filter((id) => plain.includes(id))).toEqual([]);
    expect((await evalCli('--noise-kind', 'telepathy')).output).toContain('--noise-kind must be one of fail, distract');
  });

  it('--teacher collects fine-tuning data: the teacher prompt goes out, the kept rows carry the app prompt, and the summary says what was dropped and why', async () => {
    const gold = (i: number) => questions[i]?.answers_objects[0]?.spans[0] ?? '?';
    const prompts = new Set<string>();
    // Right and clean; right but from memory; wrong.
    const teacher = await startScriptedOpenAi((messages) => {
      prompts.add(messages[0]?.content ?? '');
      const question = messages[1]?.content ?? '';
      const i = questions.findIndex((q) => question.includes(q.question_text));
      if (!hasSearched(messages)) return `<think>Entities to look up.</think><search>${question.slice(10, 70)}</search>`;
      return ['<answer>' + gold(0) + '</answer>', `<think>I remember this one.</think><answer>${gold(1)}</answer>`, '<answer>Atlantis</answer>'][i] ?? '';
    });
    try {
      const out = mkdtempSync(join(tmpdir(), 'sdg-eval-teacher-'));
      const run = await evalCliAt(teacher.baseUrl, '--out', out, '--teacher');
      expect(run.status, run.output).toBe(0);
      expect([...prompts]).toEqual([ASP_TEACHER_PROMPT]);
      expect(run.output).toContain('ASP filter: kept 1 of 3 traces; dropped 2: 1 low F1 (String-F1 below 0.65), 1 parametric phrase');

      const rows = readFileSync(join(out, 'sft.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { messages: { role: string; content: string }[] });
      expect(rows).toHaveLength(1);
      expect(rows[0]?.messages[0]).toEqual({ role: 'system', content: SEARCH_AGENT_PROMPT });
      expect(rows.map(sftRowProblems)).toEqual([[]]);
      const report = JSON.parse(readFileSync(join(out, 'asp-filter.json'), 'utf8')) as { minF1: number; dropped: { reasons: string[]; phrase?: string }[] };
      expect(report.minF1).toBe(0.65);
      expect(report.dropped).toEqual([
        { id: expect.any(String), reasons: ['parametric phrase'], phrase: 'i remember' },
        { id: expect.any(String), reasons: ['low F1'] },
      ]);

      const guess = await evalCliAt(teacher.baseUrl, '--out', out, '--teacher', '--policy', 'no-search');
      expect(guess.status).toBe(1);
      expect(guess.output).toContain('--teacher runs the always-search policy only');
    } finally {
      await teacher.close();
    }
  });

  it('stops at an unreachable server, keeping nothing it could not score', async () => {
    const out = mkdtempSync(join(tmpdir(), 'sdg-eval-out-'));
    const child = await new Promise<{ status: number | null; output: string }>((done) => {
      const run = spawn(process.execPath, ['--import', 'tsx', 'src/cli/eval.ts', '--dataset', dataset, '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--index', indexDir, '--out', out], { cwd: ROOT });
      let output = '';
      run.stderr.on('data', (c: Buffer) => (output += c.toString()));
      run.on('close', (status) => done({ status, output }));
    });
    expect(child.status).toBe(1);
    expect(child.output).toMatch(/question .+ failed: .*the 0 finished questions are kept/);
    expect(() => readFileSync(join(out, 'results.jsonl'))).toThrow();
  });

  it('--retrieval-server searches a Search-R1 retrieval server instead of the index, and stops with a clear error when it is down', async () => {
    const requests: unknown[] = [];
    const retrieval = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        requests.push(JSON.parse(raw));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: [[{ document: { id: '42', contents: '"Remote Title"\nfrom the server' }, score: 0.9 }]] }));
      });
    });
    await new Promise<void>((resolve) => retrieval.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(retrieval.address() as AddressInfo).port}`;
    try {
      const out = mkdtempSync(join(tmpdir(), 'sdg-eval-out-'));
      const run = await evalCli('--out', out, '--limit', '1', '--retrieval-server', url);
      expect(run.status, run.output).toBe(0);
      expect(run.output).toContain(`always-search · ${url}/retrieve`);
      expect(requests).toEqual([{ queries: [expect.any(String)], topk: 3, return_scores: true }]);
      expect(readFileSync(join(out, 'traces.jsonl'), 'utf8')).toContain('Remote Title');
    } finally {
      retrieval.close();
    }
    const down = await evalCli('--out', mkdtempSync(join(tmpdir(), 'sdg-eval-out-')), '--retrieval-server', 'http://127.0.0.1:9');
    expect(down.status).toBe(1);
    expect(down.output).toMatch(/question .+ failed: could not reach the retrieval server at http:\/\/127\.0\.0\.1:9\/retrieve .*the 0 finished questions are kept/);
  });
});
