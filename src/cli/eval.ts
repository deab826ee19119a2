/**
 * `npm run eval`: the benchmark runner in Node, against an OpenAI-compatible server (llama.cpp's
 * llama-server, Ollama, vLLM), over an index built by the index builder. Results are appended to
 * `<out>/results.jsonl` as each question finishes, so Ctrl-C pauses and the same command resumes;
 * at the end come results.csv / results.json, traces.jsonl and the ASP-filtered sft.jsonl.
 * `--teacher` runs a large model with the teacher prompt (search for every entity, nothing from memory)
 * to collect fine-tuning traces; the rows it keeps carry the app's own prompt, which the student gets.
 *
 *   npm run eval -- --dataset ../shared/data/hotpotqa_dev_distractor_400.jsonl --limit 50 \
 *     --base-url http://127.0.0.1:8080/v1 --model qwen3-1.7b [--policy always-search|no-search] \
 *     [--retrieval lexical|dense|hybrid] [--noise 0.1] [--noise-kind fail|distract] [--index public/index] \
 *     [--out .cache/eval/run] [--teacher] [--retrieval-server http://gpu-box:8000]
 *
 * `--retrieval-server` searches a server-side index (Search-R1's retrieval_server.py, e.g. e5 over all
 * of Wikipedia in FAISS) instead of `--index`; the server ranks its own way, so `--retrieval` is moot.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { folderDependencies, folderRequest } from '../../index-builder/open-folder.ts';
import { loadQueryEmbedder } from '../../index-builder/embedders.ts';
import { terminalProgress } from '../../index-builder/progress.ts';
import { DEFAULT_FILTER, filterSummary, filterTraces, sftJsonl } from '../core/eval/asp-filter.ts';
import { runQuestion, summarize, type QuestionResult } from '../core/eval/benchmark.ts';
import { parseDataset } from '../core/eval/datasets.ts';
import { abortOnCtrlC, runCommand } from './command.ts';
import { NOISE_KINDS } from '../core/agent/noise.ts';
import { ASP_TEACHER_PROMPT } from '../core/agent/prompts.ts';
import { FIXED_POLICY_NAMES, policyByName } from '../core/agent/policy.ts';
import { runResumable } from '../core/eval/resumable-run.ts';
import { agentConfig, DEFAULT_RUN_SETTINGS, runRetriever, type RunSettings } from '../core/agent/run-settings.ts';
import type { Retriever } from '../core/agent/retriever.ts';
import { resultsCsv, resultsJson, tracesJsonl } from '../core/eval/export.ts';
import { OpenAiEngine } from '../engines/openai.ts';
import { RemoteRetriever, retrieveEndpoint } from '../retrieval/remote-retriever.ts';
import { RetrievalService } from '../retrieval/retrieval-service.ts';
import { RETRIEVAL_MODES } from '../retrieval/sharded-index.ts';

const OPTIONS = {
  dataset: { type: 'string' },
  limit: { type: 'string' },
  'base-url': { type: 'string' },
  model: { type: 'string' },
  'api-key': { type: 'string' },
  index: { type: 'string', default: 'public/index' },
  retrieval: { type: 'string', default: 'lexical' },
  policy: { type: 'string', default: 'always-search' },
  noise: { type: 'string', default: '0' },
  'noise-kind': { type: 'string', default: 'fail' },
  'top-k': { type: 'string', default: '3' },
  'max-turns': { type: 'string', default: '6' },
  'model-dir': { type: 'string' },
  out: { type: 'string' },
  teacher: { type: 'boolean', default: false },
  'retrieval-server': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

const USAGE = 'usage: npm run eval -- --dataset <file.jsonl> --base-url <http://host:port/v1> --model <name> [--limit N] [--policy always-search|no-search] [--retrieval lexical|dense|hybrid] [--noise 0.1] [--noise-kind fail|distract] [--index public/index | --retrieval-server <http://host:8000>] [--out dir] [--teacher]';

function number(values: Values, flag: 'limit' | 'noise' | 'top-k' | 'max-turns', min: number, max: number): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${flag} must be a number from ${min} to ${max}, got "${raw}"`);
  return n;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new Error(`--${flag} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** What makes two runs comparable: a resumed run must have been started with the same settings. */
function settingsOf(values: Values) {
  return {
    dataset: resolve(values.dataset ?? ''),
    model: values.model,
    baseUrl: values['base-url'],
    index: resolve(values.index),
    retrieval: oneOf(values.retrieval, RETRIEVAL_MODES, 'retrieval'),
    policy: oneOf(values.policy, FIXED_POLICY_NAMES, 'policy'),
    /** The share of searches spoiled, 0..1, and how (as the app's noisy-retrieval setting). */
    noise: number(values, 'noise', 0, 1) ?? 0,
    noiseKind: oneOf(values['noise-kind'], NOISE_KINDS, 'noise-kind'),
    topK: number(values, 'top-k', 1, 20) ?? 3,
    maxTurns: number(values, 'max-turns', 1, 20) ?? 6,
    // Only a teacher run names its prompt, so the settings of runs made before the flag still match.
    ...(values.teacher && { prompt: teacherPolicy(values.policy) }),
    ...(values['retrieval-server'] && { retrievalServer: retrieveEndpoint(values['retrieval-server']) }),
  };
}

/** A teacher's traces are the always-search data: a run that may not search has nothing to teach. */
function teacherPolicy(policy: string): 'asp-teacher' {
  if (policy !== 'always-search') throw new Error(`--teacher runs the always-search policy only, got --policy ${policy}`);
  return 'asp-teacher';
}
type Settings = ReturnType<typeof settingsOf>;

const retrievalOf = (settings: Settings) => settings.retrievalServer ?? `${settings.retrieval} retrieval`;

/** The flags as the app's run settings, so a run here is set up the way the app's pages set theirs up. */
function runSettingsOf(settings: Settings): RunSettings {
  return { ...DEFAULT_RUN_SETTINGS, topK: settings.topK, maxTurns: settings.maxTurns, retrievalMode: settings.retrieval, noiseKind: settings.noiseKind, noisePercent: 100 * settings.noise };
}

/** Through the retrieval service, as the app's worker opens an index; no query embedder for lexical runs. */
async function openRetriever(settings: Settings, modelDir: string | undefined): Promise<{ retriever: Retriever; close: () => Promise<void> }> {
  if (settings.retrievalServer) return { retriever: new RemoteRetriever(settings.retrievalServer), close: async () => undefined };
  if (!existsSync(join(settings.index, 'manifest.json'))) throw new Error(`no index at ${settings.index} (build one with npm run build-index)`);
  const service = new RetrievalService(folderDependencies(settings.retrieval === 'lexical' ? undefined : (spec) => loadQueryEmbedder(spec, modelDir)));
  const info = await service.open(folderRequest(settings.index), () => undefined);
  if (!info.modes.includes(settings.retrieval)) throw new Error(`${settings.retrieval} retrieval is not available for this index: ${info.denseUnavailable ?? ''}`);
  // One search at a time: each is the newest, never overtaken.
  let ticket = 0;
  const base: Retriever = { search: (query, k) => service.search(query, settings.retrieval, k, ++ticket) };
  return { retriever: base, close: () => service.close() };
}

/** Finished questions of an earlier, interrupted run with the same settings. */
function resumeFrom(out: string, settings: Settings): QuestionResult[] {
  const settingsPath = join(out, 'settings.json');
  const resultsPath = join(out, 'results.jsonl');
  if (existsSync(settingsPath) && readFileSync(settingsPath, 'utf8') !== JSON.stringify(settings, null, 1)) {
    throw new Error(`${out} holds a run with other settings: choose another --out, or delete it to start over`);
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(settingsPath, JSON.stringify(settings, null, 1));
  if (!existsSync(resultsPath)) return [];
  // A line cut short by a kill is simply run again.
  return readFileSync(resultsPath, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return line.trim() ? [JSON.parse(line) as QuestionResult] : [];
      } catch {
        return [];
      }
    });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS });
  if (!values.dataset || !values['base-url'] || !values.model) throw new Error(USAGE);
  const settings = settingsOf(values);
  if (!existsSync(settings.dataset)) throw new Error(`dataset not found: ${settings.dataset}`);
  const { questions, skipped } = parseDataset(readFileSync(settings.dataset, 'utf8'));
  for (const s of skipped.slice(0, 10)) console.warn(`dataset line ${s.line} skipped: ${s.reason}`);
  if (skipped.length) console.warn(`${skipped.length} dataset lines skipped in all`);
  const selected = questions.slice(0, number(values, 'limit', 1, 1_000_000) ?? questions.length);
  if (selected.length === 0) throw new Error(`${settings.dataset} holds no valid questions`);
  const out = resolve(values.out ?? `.cache/eval/${settings.policy}-${settings.retrieval}`);
  const results = resumeFrom(out, settings);
  if (results.length) console.log(`resuming: ${results.length} of ${selected.length} questions already done`);
  const engine = new OpenAiEngine({ baseUrl: settings.baseUrl ?? '', model: settings.model ?? '', ...(values['api-key'] && { apiKey: values['api-key'] }) });
  const { retriever, close } = await openRetriever(settings, values['model-dir']);
  const paused = abortOnCtrlC('paused: run the same command again to resume');
  const progress = terminalProgress();
  progress.start(`${settings.policy}, ${retrievalOf(settings)}`, selected.length);
  progress.update(results.length);
  try {
    const run = runSettingsOf(settings);
    const deps = { engine, retriever: runRetriever(retriever, run) };
    const config = { ...agentConfig(run, policyByName(settings.policy)), ...(settings.prompt && { searchPrompt: ASP_TEACHER_PROMPT }) };
    await runResumable({
      questions: selected,
      done: results,
      signal: paused,
      resumeHint: 'run the command again to resume',
      runOne: (question, signal) => runQuestion(question, deps, config, signal),
      store: async (result) => {
        appendFileSync(join(out, 'results.jsonl'), JSON.stringify(result) + '\n');
        results.push(result);
        progress.update(results.length);
      },
    });
  } finally {
    progress.stop();
    await close();
  }
  if (paused.aborted) throw paused.reason;
  report(out, settings, results.filter((r) => selected.some((q) => q.id === r.id)));
}

function report(out: string, settings: Settings, results: QuestionResult[]): void {
  const summary = summarize(results);
  const filter = filterTraces(results, DEFAULT_FILTER);
  writeFileSync(join(out, 'results.csv'), resultsCsv(results));
  writeFileSync(join(out, 'results.json'), resultsJson(summary, results, settings));
  writeFileSync(join(out, 'traces.jsonl'), tracesJsonl(results));
  writeFileSync(join(out, 'sft.jsonl'), sftJsonl(filter.kept));
  writeFileSync(join(out, 'asp-filter.json'), JSON.stringify({ minF1: DEFAULT_FILTER.minF1, phrases: DEFAULT_FILTER.phrases, counts: filter.counts, kept: filter.kept.map((r) => r.id), dropped: filter.dropped }, null, 1));
  const pct = (x: number) => (100 * x).toFixed(1);
  console.table({
    [`${settings.model} · ${settings.policy} · ${retrievalOf(settings)}`]: {
      questions: summary.questions,
      'String-F1': pct(summary.f1),
      EM: pct(summary.em),
      'searches/q': summary.searchesPerQuestion.toFixed(2),
      'tokens/q': Math.round(summary.tokensPerQuestion),
      'latency mean s': (summary.latencyMs.mean / 1000).toFixed(2),
      'p50 s': (summary.latencyMs.p50 / 1000).toFixed(2),
      'p95 s': (summary.latencyMs.p95 / 1000).toFixed(2),
    },
  });
  const b = summary.breakdownMs;
  console.log(`time per question: retrieval ${Math.round(b.retrieval)} ms, prefill ${Math.round(b.prefill)} ms, decode ${Math.round(b.decode)} ms`);
  console.log(`ASP filter: ${filterSummary(filter)}`);
  console.log(`written to ${out}: results.csv, results.json, traces.jsonl, sft.jsonl (the kept traces), asp-filter.json (why each other one was dropped)`);
}

runCommand('eval', main);
