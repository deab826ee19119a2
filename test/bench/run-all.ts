/**
 * `npm run bench`: every benchmark, one table, one JSON file (.cache/bench/results.json by default).
 *
 *   npm run bench                 full sizes (under 10 minutes on 2 cores; run it alone: it builds the app
 *                                 and drives Chromium, e.g. `flock /tmp/heavy.lock npm run bench`)
 *   npm run bench -- --smoke      tiny sizes, seconds: what `npm test` runs so the bench cannot rot
 *   npm run bench -- --out <file.json>
 *
 * Sections: retrieval (dense top-10 from dense-scale.ts, BM25 at scale, the demo corpus's bytes per
 * passage, the time to open it and prefetch every range, recall@5), memory (worker memory per 100k passages by part, memory.ts),
 * agent (tokens prefilled and decoded per question with the real Qwen3 tokenizer, with and without
 * KV-cache reuse), app (JS before a model loads, first paint).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { denseScaleBench } from './dense-scale.ts';
import { lexicalScaleBench } from './lexical-scale.ts';
import { indexLoadBench } from './index-load.ts';
import { memoryBench } from './memory.ts';
import { DEFAULT_PASSAGE_BUDGET_BYTES } from '../../src/retrieval/passage-store.ts';
import { agentTokensBench } from './agent-tokens.ts';
import { appSizeBench } from './app-size.ts';
import { agentOverheadBench } from './agent-overhead.ts';
import { hotpotQuestions } from '../shared-data.ts';

const { values } = parseArgs({ options: { smoke: { type: 'boolean', default: false }, out: { type: 'string', default: '.cache/bench/results.json' } } });
const smoke = values.smoke;
const SIZES = smoke
  ? { dense: [1_000], dim: 32, denseQueries: 5, voyBudgetMs: 30_000, lexical: [1_000], lexicalQueries: 5, lexicalBudgetMs: 30_000, recallQuestions: 20, memoryPassages: 2_000, agentQuestions: 3, overheadQuestions: 1, paints: 1 }
  : { dense: [10_000, 100_000, 1_000_000], dim: 384, denseQueries: 30, voyBudgetMs: 60_000, lexical: [10_000, 100_000, 1_000_000], lexicalQueries: 30, lexicalBudgetMs: 60_000, recallQuestions: 400, memoryPassages: 100_000, agentQuestions: 400, overheadQuestions: 5, paints: 5 };
const log = (line: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);
const started = performance.now();

const dense = await denseScaleBench({ sizes: SIZES.dense, dimension: SIZES.dim, queries: SIZES.denseQueries, voyBudgetMs: SIZES.voyBudgetMs, log });
const corpus = hotpotQuestions(400).flatMap((l) => l.contexts.map((c) => c.paragraph_text));
const lexical = await lexicalScaleBench({ sizes: SIZES.lexical, queries: SIZES.lexicalQueries, corpus, buildBudgetMs: SIZES.lexicalBudgetMs, log });
const index = await indexLoadBench({ questions: SIZES.recallQuestions, log });
const memory = await memoryBench({ passages: SIZES.memoryPassages, log });
const agent = await agentTokensBench({ questions: SIZES.agentQuestions, log });
const overhead = await agentOverheadBench({ questions: SIZES.overheadQuestions, log });
const app = await appSizeBench({ paints: SIZES.paints, log });
const totalMs = performance.now() - started;

type Row = [section: string, metric: string, value: number, unit: string];
const rows: Row[] = [];
const add = (section: string, metric: string, value: number, unit: string) => rows.push([section, metric, value, unit]);

for (const r of dense) {
  add('retrieval', `dense top-10 p50, ${r.index}, ${count(r.vectors)} × ${r.dimension}-d`, r.p50Ms, 'ms');
  add('retrieval', `dense top-10 p95, ${r.index}, ${count(r.vectors)} × ${r.dimension}-d`, r.p95Ms, 'ms');
  add('retrieval', `dense bytes/vector, ${r.index}, ${count(r.vectors)}`, r.bytesPerVector, 'B');
}
for (const r of lexical) {
  add('retrieval', `BM25 top-10 with texts p50, ${count(r.passages)} passages (ranges read from disk)`, r.p50Ms, 'ms');
  add('retrieval', `BM25 top-10 with texts p95, ${count(r.passages)} passages (ranges read from disk)`, r.p95Ms, 'ms');
  add('retrieval', `lexical-only index build, ${count(r.passages)} passages`, r.buildMs / 1000, 's');
  add('retrieval', `BM25 files bytes/passage, ${count(r.passages)} passages`, r.bytesPerPassage, 'B');
  add('retrieval', `BM25 pages + postings held after ${SIZES.lexicalQueries} queries, ${count(r.passages)} passages`, r.heldMB, 'MB');
}
add('retrieval', `demo corpus bytes/passage: text (gzip blocks)`, index.bytesPerPassage.text, 'B');
add('retrieval', `demo corpus bytes/passage: BM25`, index.bytesPerPassage.lexical, 'B');
add('retrieval', `demo corpus bytes/passage: vectors (int8, 512-d)`, index.bytesPerPassage.vectorsInt8, 'B');
add('retrieval', `open + prefetch every range (read, SHA-256), ${index.shardMB.toFixed(1)} MB`, index.loadMsPerMB, 'ms/MB');
add('retrieval', `recall@5 BM25, ${index.questions} HotpotQA questions`, index.recallAt5Lexical, '');
const at = `per 100k passages, at ${count(memory.passages)}`;
add('memory', `vectors, ${memory.dimension}-d int8 (WebAssembly.Memory), ${at}`, memory.per100kMB.vectorsWasm, 'MB');
add('memory', `index open + one hybrid query (JS heap), ${at}`, memory.per100kMB.lexicalHeap, 'MB');
add('memory', `BM25 pages + postings after one query (budget-counted, at ${count(memory.passages)})`, memory.lexicalBudgetMBAfterOneQuery, 'MB');
add('memory', `passage texts, every block held (JS heap), ${at}`, memory.per100kMB.passageTextsHeap, 'MB');
add('memory', `passage texts after trim() (JS heap), ${at}`, memory.per100kMB.passageTextsAfterTrim, 'MB');
add('memory', `passage heap per budget byte (budget: ${DEFAULT_PASSAGE_BUDGET_BYTES / 2 ** 20} MiB of inflated blocks)`, memory.passageHeapPerBudgetByte, '');
add('memory', `RSS growth, index open + all texts, ${at}`, memory.per100kMB.totalRss, 'MB');
add('memory', `peak RSS growth, ${at}`, memory.per100kMB.peakRss, 'MB');
for (const r of agent.rows) {
  const c = r.config;
  add('agent', `${c}: searches / question`, r.searches, '');
  add('agent', `${c}: decoded`, r.decoded, 'tok/q');
  add('agent', `${c}: prefilled, no KV reuse`, r.prefillNoReuse, 'tok/q');
  add('agent', `${c}: prefilled, prefix reuse (llama.cpp/wllama)`, r.prefillPrefixReuse, 'tok/q');
  add('agent', `${c}: prefilled, message reuse (WebLLM)`, r.prefillMessageReuse, 'tok/q');
  add('agent', `${c}: prefilled, WebLLM if replies kept verbatim`, r.prefillMessageReuseVerbatim, 'tok/q');
  add('agent', `${c}: <information> read`, r.informationTokens, 'tok/q');
  add('agent', `${c}: longest prompt`, r.peakPromptTokens, 'tok');
  add('agent', `${c}: agent + retrieval outside the model`, r.agentMs, 'ms/q');
}
add('agent', `passage cap ${agent.passages.cap} est. tokens: real Qwen3 tokens kept`, agent.passages.meanQwen3TokensAtCap, 'tok');
const engineRun = `tiny GGUF on wllama (CPU) in Chromium, ${overhead.questions} questions`;
add('agent', `${engineRun}: wall time / question`, overhead.wallMs / 1000, 's');
add('agent', `${engineRun}: share in the model (prefill + decode)`, 100 * overhead.modelShare, '%');
add('agent', `${engineRun}: share in retrieval`, 100 * overhead.retrievalShare, '%');
add('agent', `${engineRun}: share in the agent and page (an upper bound: real models are slower)`, 100 * overhead.otherShare, '%');
add('app', `JS before a model loads (${app.initialJsFiles} files), gzip`, app.initialJsGzipBytes / 1024, 'KiB');
add('app', 'JS before a model loads, raw', app.initialJsBytes / 1024, 'KiB');
add('app', 'all JS in the build (lazy engines, workers), gzip', app.allJsGzipBytes / 1024, 'KiB');
add('app', 'first contentful paint, cold', app.firstPaintColdMs, 'ms');
add('app', `first contentful paint, from cache (median of ${SIZES.paints})`, app.firstPaintCachedMs, 'ms');
add('app', 'vite build', app.buildMs / 1000, 's');

printTable(rows);
console.log(`\n${smoke ? 'smoke' : 'full'} bench: ${(totalMs / 1000).toFixed(0)} s on ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'})`);

const out = resolve(values.out);
mkdirSync(dirname(out), { recursive: true });
const results = { meta: { mode: smoke ? 'smoke' : 'full', totalMs, cores: availableParallelism(), node: process.version, date: new Date().toISOString() }, retrieval: { dense, lexical, index }, memory, agent, overhead, app, table: rows.map(([section, metric, value, unit]) => ({ section, metric, value, unit })) };
// NaN (a size that was skipped) becomes null in JSON.
writeFileSync(out, JSON.stringify(results, null, 1));
console.log(`results: ${out}`);

function count(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n);
}

function format(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return Math.abs(value) >= 1 ? value.toFixed(1) : value.toFixed(3);
}

function printTable(table: readonly Row[]): void {
  const cells = table.map(([section, metric, value, unit]) => [section, metric, format(value), unit]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => `| ${c.map((s, i) => (i === 2 ? s.padStart(widths[i] ?? 0) : s.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  console.log(line(['section', 'metric', 'value', 'unit'].map((h, i) => h.padEnd(widths[i] ?? 0))));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
}
