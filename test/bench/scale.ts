/**
 * `npm run bench:scale`: the lexical index at Wikipedia scale, on this machine, by the commands a user runs.
 *
 *   npm run bench:scale                           100k and 1M distractors (about 10 minutes on 2 cores)
 *   npm run bench:scale -- --sizes 5000000        any sizes (5M: about 30 minutes, 3 GB of corpus)
 *   npm run bench:scale -- --reuse                keep corpora and indexes already built in --work
 *
 * For each size: `../shared/tools/scale-corpus.mjs` writes the shared questions' paragraphs plus N
 * distractors; `npm run build-index -- --embedder none` builds it (wall time, peak memory from its own
 * report); `npm run search -- --queries` answers the 400 shared questions twice, the second pass warm
 * (latency, what opening and the first cold query read, the searcher's peak memory); recall@5 and
 * both-gold@5 (a hit is gold when its title is a supporting paragraph's) come from its answers, beside
 * an exhaustive float BM25 over the same passages (same tokenizer, same k1 and b, no quantisation, no
 * pruning). Results: a table on stdout and `.cache/bench/scale.json` (merged with earlier sizes).
 *
 * Then the dense side: IVF-PQ on --dense-sizes synthetic clustered 384-d vectors against the exact flat
 * scan (ivf-pq-scale.ts; 1M: about 15 minutes here), under `dense` in the same file. `--sizes ''` or
 * `--dense-sizes ''` skips a side.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { newTally, streamPassages } from '../../index-builder/sources.ts';
import { sumBytes } from '../../src/core/index/index-manifest.ts';
import { bm25, BM25_DEFAULTS, passageTerms, queryTerms } from '../../src/retrieval/bm25.ts';
import { MAX_QUERY_TERMS } from '../../src/retrieval/lexical-index.ts';
import { HOTPOT_PATH, hotpotQuestions } from '../shared-data.ts';
import { ivfPqScaleBench, ivfPqScaleTable, type IvfPqScaleRow } from './ivf-pq-scale.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const SCALE_CORPUS = resolve(ROOT, '../shared/tools/scale-corpus.mjs');
const K = 5;

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    work: { type: 'string', default: '.cache/bench/scale' },
    out: { type: 'string', default: '.cache/bench/scale.json' },
    reuse: { type: 'boolean', default: false },
    'dense-sizes': { type: 'string', default: '1000000' },
    'dense-queries': { type: 'string', default: '200' },
  },
});

interface Question {
  text: string;
  gold: Set<string>;
}

interface SizeResult {
  distractors: number;
  passages: number;
  buildSeconds: number;
  buildPeakMB: number;
  lexicalBytesPerPassage: number;
  passageBytesPerPassage: number;
  openMs: number;
  openKB: number;
  coldQueryMs: number;
  coldQueryKB: number;
  warmP50Ms: number;
  warmP95Ms: number;
  searchPeakMB: number;
  recallAt5: number;
  bothGoldAt5: number;
  exhaustiveRecallAt5: number;
  exhaustiveBothGoldAt5: number;
}

const log = (line: string) => console.error(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const started = performance.now();

/** Runs a command, streaming its stderr to ours; resolves with its stdout and stderr. */
function run(command: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', fail);
    child.on('close', (code) => {
      const result = { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (code === 0) done(result);
      else fail(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${result.stderr.slice(-2000)}`));
    });
  });
}

function number(text: string, pattern: RegExp, what: string): number {
  const match = pattern.exec(text);
  if (!match?.[1]) throw new Error(`no ${what} in:\n${text.slice(-2000)}`);
  return Number(match[1]);
}

function questions(): Question[] {
  return hotpotQuestions(400).map((q) => ({ text: q.question_text, gold: new Set(q.contexts.filter((c) => c.is_supporting).map((c) => c.title)) }));
}

/** Mean share of gold titles found, and share of questions with every gold title found. */
function recall(qs: readonly Question[], hits: readonly (readonly string[])[]): { recall: number; both: number } {
  let recallSum = 0;
  let both = 0;
  qs.forEach((q, i) => {
    const titles = new Set(hits[i] ?? []);
    const found = [...q.gold].filter((t) => titles.has(t)).length;
    recallSum += found / q.gold.size;
    if (found === q.gold.size) both++;
  });
  return { recall: recallSum / qs.length, both: both / qs.length };
}

async function ensureCorpus(distractors: number, dir: string): Promise<string> {
  const file = join(dir, `corpus-${distractors}.jsonl`);
  if (values.reuse && existsSync(file)) return file;
  log(`writing a corpus of ${distractors} distractors`);
  await run(process.execPath, [SCALE_CORPUS, '--distractors', String(distractors), '--out', file, '--questions', HOTPOT_PATH]);
  return file;
}

async function build(corpus: string, out: string): Promise<{ seconds: number; peakMB: number }> {
  const saved = join(out, 'build.json');
  if (values.reuse && existsSync(join(out, 'manifest.json')) && existsSync(saved)) return JSON.parse(readFileSync(saved, 'utf8')) as { seconds: number; peakMB: number };
  log(`building ${out}`);
  const t0 = performance.now();
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'index-builder/cli.ts', '--input', corpus, '--out', out, '--embedder', 'none']);
  const result = { seconds: (performance.now() - t0) / 1000, peakMB: number(stdout, /peak memory (\d+) MB/, 'peak memory') };
  writeFileSync(join(out, 'build.json'), JSON.stringify(result));
  return result;
}

interface Answer {
  ms: number;
  hits: { title: string }[];
}

async function search(index: string, qs: readonly Question[], dir: string) {
  const file = join(dir, 'queries.txt');
  // Twice: the first pass is cold (every page and list fetched), the second warm.
  writeFileSync(file, [...qs, ...qs].map((q) => q.text.replace(/\s+/g, ' ')).join('\n'));
  log(`answering ${qs.length} questions twice with ${index}`);
  const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/search.ts', '--index', index, '--k', String(K), '--queries', file]);
  const answers = stdout.trim().split('\n').map((line) => JSON.parse(line) as Answer);
  const warm = answers.slice(qs.length).map((a) => a.ms).sort((a, b) => a - b);
  const at = (q: number) => warm[Math.min(warm.length - 1, Math.floor(q * warm.length))] ?? 0;
  return {
    openMs: number(stderr, /opened in ([\d.]+) ms/, 'open time'),
    openKB: number(stderr, /opened in [\d.]+ ms, ([\d.]+) KB read/, 'open bytes'),
    coldQueryMs: number(stderr, /first query: ([\d.]+) ms/, 'first query time'),
    coldQueryKB: number(stderr, /first query: [\d.]+ ms, ([\d.]+) KB read/, 'first query bytes'),
    warmP50Ms: at(0.5),
    warmP95Ms: at(0.95),
    peakMB: number(stderr, /peak memory (\d+) MB/, 'peak memory'),
    hits: answers.slice(0, qs.length).map((a) => a.hits.map((h) => h.title)),
  };
}

/** A list of non-negative integers in a typed array that doubles as it fills: a fifth of the heap of
 * number[] at the tens of millions of postings a 5M corpus gives the questions' terms. */
class GrowingList {
  values = new Uint32Array(16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Uint32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }
}

/**
 * Exhaustive float BM25 over the corpus as the builder reads it (same chunking and dedup, so the same
 * rows): one pass collects the postings of the questions' terms only, then every question is scored
 * against every passage holding any of its terms. Only gold titles are kept: a hit is told by its title.
 */
async function exhaustive(corpus: string, qs: readonly Question[]): Promise<string[][]> {
  log('exhaustive BM25 over the corpus');
  const wanted = new Map<string, { rows: GrowingList; tfs: GrowingList }>();
  const queries = qs.map((q) => queryTerms(q.text, MAX_QUERY_TERMS));
  for (const terms of queries) for (const term of terms.keys()) wanted.set(term, { rows: new GrowingList(), tfs: new GrowingList() });
  const goldTitles = new Set(qs.flatMap((q) => [...q.gold]));
  const titles = new Map<number, string>();
  const lengths = new GrowingList();
  for await (const doc of streamPassages(corpus, 100, newTally())) {
    const row = lengths.length;
    const { tf, length } = passageTerms(doc.title, doc.text);
    for (const [term, count] of tf) {
      const list = wanted.get(term);
      list?.rows.push(row);
      list?.tfs.push(count);
    }
    if (goldTitles.has(doc.title)) titles.set(row, doc.title);
    lengths.push(length);
  }
  const n = lengths.length;
  const avg = lengths.values.subarray(0, n).reduce((a, b) => a + b, 0) / n;
  const scores = new Float64Array(n);
  return queries.map((terms) => {
    const touched: number[] = [];
    for (const [term, weight] of terms) {
      const list = wanted.get(term);
      if (!list) continue;
      for (let i = 0; i < list.rows.length; i++) {
        const row = list.rows.values[i] ?? 0;
        if (scores[row] === 0) touched.push(row);
        scores[row] = (scores[row] ?? 0) + weight * bm25(list.tfs.values[i] ?? 0, lengths.values[row] ?? 0, avg, list.rows.length, n, BM25_DEFAULTS);
      }
    }
    const top = touched.sort((a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b).slice(0, K);
    for (const row of touched) scores[row] = 0;
    return top.map((row) => titles.get(row) ?? '');
  });
}

async function measure(distractors: number): Promise<SizeResult> {
  const dir = resolve(values.work);
  mkdirSync(dir, { recursive: true });
  const corpus = await ensureCorpus(distractors, dir);
  const indexDir = join(dir, `index-${distractors}`);
  const built = await build(corpus, indexDir);
  const manifest = readManifest(indexDir);
  const passages = manifest.passages.count;
  const qs = questions();
  const answered = await search(indexDir, qs, dir);
  const ours = recall(qs, answered.hits);
  const reference = recall(qs, await exhaustive(corpus, qs));
  return {
    distractors,
    passages,
    buildSeconds: built.seconds,
    buildPeakMB: built.peakMB,
    lexicalBytesPerPassage: sumBytes([manifest.lexical.dictionary, ...manifest.lexical.files]) / passages,
    passageBytesPerPassage: sumBytes([manifest.passages.table, ...manifest.passages.files]) / passages,
    openMs: answered.openMs,
    openKB: answered.openKB,
    coldQueryMs: answered.coldQueryMs,
    coldQueryKB: answered.coldQueryKB,
    warmP50Ms: answered.warmP50Ms,
    warmP95Ms: answered.warmP95Ms,
    searchPeakMB: answered.peakMB,
    recallAt5: ours.recall,
    bothGoldAt5: ours.both,
    exhaustiveRecallAt5: reference.recall,
    exhaustiveBothGoldAt5: reference.both,
  };
}

function wholeNumbers(text: string, flag: string): number[] {
  const numbers = text.split(',').filter((s) => s.trim()).map((s) => Number(s.trim()));
  if (numbers.some((n) => !Number.isInteger(n) || n < 0)) throw new Error(`--${flag} takes whole numbers, got ${text}`);
  return numbers;
}

interface ScaleFile {
  machine: string;
  results: SizeResult[];
  dense?: IvfPqScaleRow[];
}

const sizes = wholeNumbers(values.sizes, 'sizes');
const denseSizes = wholeNumbers(values['dense-sizes'], 'dense-sizes');
const out = resolve(values.out);
const earlierFile: ScaleFile | null = existsSync(out) ? (JSON.parse(readFileSync(out, 'utf8')) as ScaleFile) : null;
const results = [...(earlierFile?.results ?? [])];
let dense = [...(earlierFile?.dense ?? [])];
const machine = `${process.platform} ${process.arch}, node ${process.version}`;
const save = () => {
  mkdirSync(resolve(out, '..'), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine, results, dense }, null, 1));
};
for (const size of sizes) {
  const result = await measure(size);
  const same = results.findIndex((r) => r.distractors === size);
  if (same >= 0) results[same] = result;
  else results.push(result);
  results.sort((a, b) => a.distractors - b.distractors);
  save();
  console.table(results.map((r) => Object.fromEntries(Object.entries(r).map(([key, value]) => [key, Number.isInteger(value) ? value : Number(value.toFixed(3))]))));
}
if (denseSizes.length) {
  const rows = await ivfPqScaleBench({ sizes: denseSizes, dimension: 384, queries: Number(values['dense-queries']), nprobes: [], log });
  dense = [...dense.filter((r) => !denseSizes.includes(r.vectors)), ...rows].sort((a, b) => a.vectors - b.vectors);
  save();
  console.log('IVF-PQ dense top-10 on synthetic clustered 384-d vectors, against the exact int8 scan:');
  console.table(ivfPqScaleTable(dense));
}
log(`done; results in ${out}`);
