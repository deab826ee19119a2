/**
 * `npm run eval`: the benchmark runner in Node, against an OpenAI-compatible server (llama.cpp's
 * llama-server, Ollama, vLLM), over an index built by the index builder. Results are appended to
 * `<out>/results.jsonl` as each question finishes, so Ctrl-C pauses and the same command resumes;
 * at the end come results.csv / results.json, traces.jsonl and the ASP-filtered sft.jsonl.
 *
 *   npm run eval -- --dataset ../shared/data/hotpotqa_dev_distractor_400.jsonl --limit 50 \
 *     --base-url http://127.0.0.1:8080/v1 --model qwen3-1.7b [--policy always-search|no-search] \
 *     [--retrieval lexical|dense|hybrid] [--noise 0.1] [--index public/index] [--out .cache/eval/run]
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openIndexFolder, readManifest } from '../../index-builder/open-folder.ts';
import { loadEmbedder, type EmbedderChoice } from '../../index-builder/embedders.ts';
import { terminalProgress } from '../../index-builder/progress.ts';
import { DEFAULT_FILTER, filterTraces, sftJsonl } from '../core/asp-filter.ts';
import { failureOf, finishedIds, runBenchmark, summarize, type QuestionResult } from '../core/benchmark.ts';
import { parseDataset } from '../core/datasets.ts';
import { errorMessage } from '../core/error-message.ts';
import type { EmbedderSpec } from '../core/index-manifest.ts';
import { failingRetriever } from '../core/noise.ts';
import { alwaysSearch, noSearch } from '../core/policy.ts';
import type { Retriever } from '../core/retriever.ts';
import { resultsCsv, resultsJson, tracesJsonl } from '../core/export.ts';
import { OpenAiEngine } from '../engines/openai.ts';
import { RETRIEVAL_MODES, type RetrievalMode } from '../retrieval/sharded-index.ts';

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
  'top-k': { type: 'string', default: '3' },
  'max-turns': { type: 'string', default: '6' },
  'model-dir': { type: 'string' },
  out: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

const USAGE = 'usage: npm run eval -- --dataset <file.jsonl> --base-url <http://host:port/v1> --model <name> [--limit N] [--policy always-search|no-search] [--retrieval lexical|dense|hybrid] [--noise 0.1] [--index public/index] [--out dir]';

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
    policy: oneOf(values.policy, ['always-search', 'no-search'] as const, 'policy'),
    noise: number(values, 'noise', 0, 1) ?? 0,
    topK: number(values, 'top-k', 1, 20) ?? 3,
    maxTurns: number(values, 'max-turns', 1, 20) ?? 6,
  };
}
type Settings = ReturnType<typeof settingsOf>;

function embedderChoice(spec: EmbedderSpec, modelDir: string | undefined): EmbedderChoice {
  return spec.kind === 'use-lite' ? { kind: 'use-lite' } : { kind: 'e5', model: spec.model, ...(modelDir && { modelDir: resolve(modelDir) }) };
}

async function openRetriever(settings: Settings, modelDir: string | undefined): Promise<{ retriever: Retriever; close: () => Promise<void> }> {
  if (!existsSync(join(settings.index, 'manifest.json'))) throw new Error(`no index at ${settings.index} (build one with npm run build-index)`);
  const manifest = readManifest(settings.index);
  const embedder = settings.retrieval !== 'lexical' && manifest.vectors ? await loadEmbedder(embedderChoice(manifest.vectors.embedder, modelDir)) : null;
  const index = await openIndexFolder(settings.index, { embedder: embedder?.instance ?? null });
  if (!index.modes.includes(settings.retrieval)) throw new Error(`${settings.retrieval} retrieval is not available for this index: ${index.denseUnavailable ?? ''}`);
  const base: Retriever = { search: (query, k) => index.search(query, { mode: settings.retrieval as RetrievalMode, k }) };
  return { retriever: settings.noise > 0 ? failingRetriever(base, settings.noise) : base, close: async () => embedder?.instance.dispose() };
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
  const done = finishedIds(results);
  if (done.size) console.log(`resuming: ${done.size} of ${selected.length} questions already done`);
  const engine = new OpenAiEngine({ baseUrl: settings.baseUrl ?? '', model: settings.model ?? '', ...(values['api-key'] && { apiKey: values['api-key'] }) });
  const { retriever, close } = await openRetriever(settings, values['model-dir']);
  const pause = new AbortController();
  process.once('SIGINT', () => pause.abort(new Error('paused: run the same command again to resume')));
  const progress = terminalProgress();
  progress.start(`${settings.policy}, ${settings.retrieval} retrieval`, selected.length);
  progress.update(done.size);
  try {
    const config = { policy: settings.policy === 'always-search' ? alwaysSearch : noSearch, topK: settings.topK, maxTurns: settings.maxTurns };
    for await (const result of runBenchmark(selected, { engine, retriever }, config, { signal: pause.signal, skip: done })) {
      // An engine or index failure is not the model's score: stop, keep what is done, resume later.
      if (result.end === 'error') throw new Error(`question ${result.id} failed: ${failureOf(result)}; the ${results.length} finished questions are kept, run the command again to resume`);
      appendFileSync(join(out, 'results.jsonl'), JSON.stringify(result) + '\n');
      results.push(result);
      progress.update(results.length);
    }
  } finally {
    progress.stop();
    await close();
  }
  if (pause.signal.aborted) throw pause.signal.reason;
  report(out, settings, results.filter((r) => selected.some((q) => q.id === r.id)));
}

function report(out: string, settings: Settings, results: QuestionResult[]): void {
  const summary = summarize(results);
  const filter = filterTraces(results, DEFAULT_FILTER);
  writeFileSync(join(out, 'results.csv'), resultsCsv(results));
  writeFileSync(join(out, 'results.json'), resultsJson(summary, results, settings));
  writeFileSync(join(out, 'traces.jsonl'), tracesJsonl(results));
  writeFileSync(join(out, 'sft.jsonl'), sftJsonl(filter.kept));
  const pct = (x: number) => (100 * x).toFixed(1);
  console.table({
    [`${settings.model} · ${settings.policy} · ${settings.retrieval}`]: {
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
  console.log(`ASP filter: kept ${filter.kept.length} of ${results.length} traces (${Object.entries(filter.counts).map(([reason, n]) => `${n} ${reason}`).join(', ')})`);
  console.log(`written to ${out}: results.csv, results.json, traces.jsonl, sft.jsonl`);
}

main().catch((error: unknown) => {
  console.error(`eval: ${errorMessage(error)}`);
  process.exit(1);
});
