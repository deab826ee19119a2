/**
 * index-builder: turns a passage corpus into the shards + manifest the app loads.
 *
 *   npm run build-index -- --input <passages.jsonl | benchmark.jsonl> [--out public/index]
 *   npm run build-index -- --input enwiki-latest-pages-articles.xml.bz2 --limit 20000 [--titles titles.txt]
 *   npm run build-index -- --input passages.jsonl --embedder e5 [--model Xenova/e5-base-v2]
 *   npm run build-index -- --input passages.jsonl --embedder openai --base-url http://gpu-box:8080 --model <name> [--concurrency 4] [--batch 64]
 *   npm run build-index -- --demo      (the demo index from ../shared/data, skipped when it is current)
 *   npm run build-index -- --demo --lexical-first   (npm run dev: only what the first question needs)
 */
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, constants, setPriority } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { abortOnCtrlC, runCommand } from '../src/cli/command.ts';
import { CATALOG_FILE } from '../src/core/index/index-catalog.ts';
import { indexFiles, sumBytes, type IndexManifest } from '../src/core/index/index-manifest.ts';
import { EMBEDDING_PROGRESS_FILE, type EmbeddingProgress } from '../src/core/index/embedding-progress.ts';
import { demoIndexState } from './demo-state.ts';
import { buildIndex, builderKey, NoPassagesError, type BuildInput, type BuildOptions } from './build.ts';
import { readManifest } from './manifest-file.ts';
import type { DenseChoice } from './dense-choice.ts';
import { EmbedderPool } from './embed-pool.ts';
import { loadEmbedder, type EmbedderChoice } from './embedders.ts';
import { USE_LITE_ID } from '../src/embedders/use-lite.ts';
import { registerIndex } from './catalog.ts';
import { EmbeddingRate, silentProgress, terminalProgress, type Progress } from './progress.ts';
import { demoDownload, ensureDownload, fileSha256 } from './demo-corpus.ts';
import { QUESTIONS_FILE, writeDemoQuestions } from './demo-questions.ts';
import { isWikipediaDump, newTally, PassageCollector, readHotpotJson, streamPassages, streamWikipediaPassages, type ReadReport } from './sources.ts';
import { isHotpotAbstracts, readHotpotAbstracts, type AbstractsStats } from './hotpot-abstracts.ts';
import type { DumpStats } from './wikipedia-dump.ts';
import type { Document } from '../src/core/agent/retriever.ts';

const SHARED_DEMO_SOURCE = resolve(import.meta.dirname, '../../shared/data/hotpotqa_dev_distractor_400.jsonl');
/** The demo indexes the paragraphs of this many questions: about 4,400 passages, 2½ minutes to embed on two cores. */
const DEMO_QUESTIONS = 400;
const DEMO_NAME = `HotpotQA demo (${DEMO_QUESTIONS} dev questions, 10 paragraphs each)`;
const BUILDING = 'Building the demo index (HotpotQA paragraphs, USE-lite embeddings; resumable if interrupted)…';
const BUILDING_LEXICAL = 'Building the demo\'s lexical index (HotpotQA paragraphs; the vectors follow in the background)…';
const EMBEDDING = 'Embedding the demo\'s vectors in the background (USE-lite; resumable if interrupted): the app searches lexically meanwhile.';
const USAGE =
  'usage: npm run build-index -- --input <file.jsonl | dump.xml.bz2> [--out public/index] [--embedder use-lite|e5|openai|none] [--model <hub id | server model>] [--remote-host <url>] [--model-dir <folder>] [--base-url <server>] [--concurrency N] [--batch B] [--dimension D] [--query-prefix text] [--passage-prefix text] [--dense auto|flat|ivf-pq] [--shard-mb 2] [--chunk-words 100] [--threads N] [--limit N] [--titles file]';

const OPTIONS = {
  input: { type: 'string' },
  out: { type: 'string', default: 'public/index' },
  demo: { type: 'boolean', default: false },
  'lexical-first': { type: 'boolean', default: false },
  /** npm run dev's background embedding: the page and its model get the cores first. */
  'low-priority': { type: 'boolean', default: false },
  name: { type: 'string' },
  embedder: { type: 'string', default: 'use-lite' },
  'shard-mb': { type: 'string', default: '2' },
  /** The dense index: the flat int8 scan, IVF-PQ, or by the index's size. */
  dense: { type: 'string', default: 'auto' },
  'chunk-words': { type: 'string', default: '100' },
  'cache-dir': { type: 'string', default: '.cache/index-builder' },
  model: { type: 'string' },
  'remote-host': { type: 'string' },
  'model-dir': { type: 'string' },
  'base-url': { type: 'string' },
  concurrency: { type: 'string', default: '4' },
  batch: { type: 'string' },
  dimension: { type: 'string' },
  'query-prefix': { type: 'string' },
  'passage-prefix': { type: 'string' },
  threads: { type: 'string', default: String(Math.min(4, availableParallelism())) },
  limit: { type: 'string' },
  titles: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number, got "${value}"`);
  return n;
}

const SERVER_FLAGS = ['base-url', 'dimension', 'query-prefix', 'passage-prefix'] as const;

function embedderChoice(values: Values): EmbedderChoice {
  const kind = values.embedder;
  if (kind !== 'use-lite' && kind !== 'e5' && kind !== 'openai' && kind !== 'none') throw new Error(`--embedder must be use-lite, e5, openai or none, got "${kind}"`);
  if (kind !== 'e5' && (values['remote-host'] || values['model-dir'])) throw new Error('--remote-host and --model-dir go with --embedder e5');
  if (kind !== 'e5' && kind !== 'openai' && values.model) throw new Error('--model goes with --embedder e5 or openai');
  if (kind !== 'openai') {
    const stray = SERVER_FLAGS.find((flag) => values[flag] !== undefined);
    if (stray) throw new Error(`--${stray} goes with --embedder openai`);
  }
  const common: EmbedderChoice = { kind, ...(values.model && { model: values.model }), ...(values['remote-host'] && { remoteHost: values['remote-host'] }), ...(values['model-dir'] && { modelDir: resolve(values['model-dir']) }) };
  return kind === 'openai' ? { ...common, server: serverOf(values) } : common;
}

function serverOf(values: Values): NonNullable<EmbedderChoice['server']> {
  if (!values['base-url'] || !values.model) throw new Error('--embedder openai needs --base-url <server> (e.g. http://127.0.0.1:8080/v1) and --model <the name the server knows>');
  return {
    baseUrl: values['base-url'],
    concurrency: Math.round(positive(values.concurrency, 'concurrency')),
    ...(values.dimension && { dimension: Math.round(positive(values.dimension, 'dimension')) }),
    ...(values['query-prefix'] && { queryPrefix: values['query-prefix'] }),
    ...(values['passage-prefix'] && { passagePrefix: values['passage-prefix'] }),
    onRetry: (why, ms) => console.warn(`embedding server: ${why}; retrying in ${(ms / 1000).toFixed(1)} s`),
  };
}

function currentManifest(outDir: string): IndexManifest | null {
  try {
    return readManifest(resolve(outDir));
  } catch {
    return null;
  }
}

/** A corpus being read: the build pulls its passages; what was read and skipped is known after. */
interface Corpus {
  input: BuildInput;
  /** Prints what reading found. */
  report(): void;
}

/** A read's passages, shown as a progress bar over the input's bytes (closed when the last is pulled)
 * and counted. */
function progressed(input: string, read: (onBytes: (bytes: number) => void) => AsyncGenerator<Document, unknown>, progress: Progress = terminalProgress(), rate?: EmbeddingRate): { documents: AsyncGenerator<Document>; count: () => number } {
  let passages = 0;
  async function* documents(): AsyncGenerator<Document> {
    progress.start(`indexing ${basename(input)} (bytes read)`, statSync(input).size);
    try {
      for await (const document of read((bytes) => progress.update(bytes, rate?.note()))) {
        passages++;
        yield document;
      }
    } finally {
      progress.stop();
    }
  }
  return { documents: documents(), count: () => passages };
}

function dumpCorpus(values: Values, input: string, chunkWords: number, signal: AbortSignal, sha256: string, rate: EmbeddingRate): Corpus {
  const titles = values.titles ? new Set(readFileSync(values.titles, 'utf8').split('\n').map((t) => t.trim()).filter(Boolean)) : undefined;
  const limit = values.limit ? Math.round(positive(values.limit, 'limit')) : undefined;
  let result: { stats: DumpStats; duplicates: number } | undefined;
  async function* read(onBytes: (bytes: number) => void): AsyncGenerator<Document> {
    result = yield* streamWikipediaPassages(input, chunkWords, { ...(titles && { titles }), ...(limit && { limit }), signal, onBytes });
  }
  const { documents, count } = progressed(input, read, terminalProgress(), rate);
  return {
    input: { name: values.name ?? basename(input), source: { kind: 'wikipedia-dump', file: basename(input), sha256 }, documents, chunkWords },
    report() {
      if (!result) return;
      const { pages, accepted, skipped } = result.stats;
      console.log(`${accepted} articles of ${pages} pages -> ${count()} passages (${result.duplicates} duplicates merged)`);
      console.log(`pages skipped: ${Object.entries(skipped).map(([reason, n]) => `${n} ${reason}`).join(', ')}${titles ? `; ${pages - accepted - Object.values(skipped).reduce((a, b) => a + b, 0)} not in --titles` : ''}`);
    },
  };
}

function abstractsCorpus(values: Values, input: string, chunkWords: number, signal: AbortSignal, sha256: string, rate: EmbeddingRate): Corpus {
  const limit = values.limit ? Math.round(positive(values.limit, 'limit')) : undefined;
  const collector = new PassageCollector(chunkWords);
  let stats: AbstractsStats | undefined;
  async function* read(onBytes: (bytes: number) => void): AsyncGenerator<Document> {
    const articles = readHotpotAbstracts(input, { signal, onBytes, ...(limit && { limit }) });
    for (;;) {
      const next = await articles.next();
      if (next.done) return void (stats = next.value);
      yield* collector.add(next.value.title, next.value.text);
    }
  }
  const { documents, count } = progressed(input, read, terminalProgress(), rate);
  return {
    input: { name: values.name ?? basename(input), source: { kind: 'hotpotqa-abstracts', file: basename(input), sha256 }, documents, chunkWords },
    report() {
      if (!stats) return;
      console.log(`${stats.articles} articles in ${stats.members} files -> ${count()} passages (${collector.duplicates} duplicates merged)`);
      reportSkipped(stats.skipped.map((s) => ({ line: s.line, reason: `${s.member}: ${s.reason}` })));
    },
  };
}

function jsonlCorpus(name: string, input: string, chunkWords: number, sha256: string, kind: IndexManifest['source']['kind'], progress?: Progress, rate?: EmbeddingRate): Corpus {
  const tally = newTally();
  const { documents, count } = progressed(input, (onBytes) => streamPassages(input, chunkWords, tally, onBytes), progress, rate);
  return {
    input: { name, source: { kind, file: basename(input), sha256 }, documents, chunkWords },
    report() {
      console.log(`${count()} passages from ${tally.lines} lines (${tally.duplicates} duplicates merged)`);
      reportSkipped(tally.skipped);
    },
  };
}

/** The official HotpotQA JSON, read whole (it is one JSON array; the demo takes 400 questions of it). */
function listCorpus(name: string, input: string, report: ReadReport, chunkWords: number, sha256: string): Corpus {
  return {
    input: { name, source: { kind: 'hotpotqa-json', file: basename(input), sha256 }, documents: report.documents, chunkWords },
    report() {
      console.log(`${report.documents.length} passages from ${report.lines} questions (${report.duplicates} duplicates merged)`);
      reportSkipped(report.skipped);
    },
  };
}

function reportSkipped(skipped: readonly { line: number; reason: string }[]): void {
  if (!skipped.length) return;
  console.warn(`${skipped.length} lines skipped:`);
  for (const s of skipped.slice(0, 10)) console.warn(`  line ${s.line}: ${s.reason}`);
  if (skipped.length > 10) console.warn(`  … and ${skipped.length - 10} more`);
}

async function openCorpus(values: Values, input: string, chunkWords: number, signal: AbortSignal, rate: EmbeddingRate): Promise<Corpus> {
  if (!existsSync(input)) throw new Error(`input file not found: ${input}`);
  const sha256 = await fileSha256(input);
  if (isHotpotAbstracts(input)) return abstractsCorpus(values, input, chunkWords, signal, sha256, rate);
  if (isWikipediaDump(input)) return dumpCorpus(values, input, chunkWords, signal, sha256, rate);
  return jsonlCorpus(values.name ?? basename(input), input, chunkWords, sha256, 'jsonl', undefined, rate);
}

/** The process's peak resident memory (what a user's machine must have free). */
const peakMemoryMB = () => Math.round(process.resourceUsage().maxRSS / 1024);

const chunkWordsOf = (values: Values) => Math.round(positive(values['chunk-words'], 'chunk-words'));
function denseChoiceOf(values: Values): DenseChoice {
  const { dense } = values;
  if (dense !== 'auto' && dense !== 'flat' && dense !== 'ivf-pq') throw new Error(`--dense must be auto, flat or ivf-pq, got "${dense}"`);
  return dense;
}

const shardBytesOf = (values: Values) => Math.round(positive(values['shard-mb'], 'shard-mb') * 1024 * 1024);

async function startPool(choice: EmbedderChoice, threads: number): Promise<BuildOptions['embedder']> {
  if (choice.kind === 'none') return null;
  const pool = await EmbedderPool.start(choice, threads);
  return { instance: pool, spec: pool.spec };
}

/** Ctrl-C stops the build at its next passage or term; the output folder keeps its last whole index. */
const interruptible = () => abortOnCtrlC('interrupted: the last complete index (if any) is untouched; run the same command again to build it');

async function build(values: Values, corpus: Corpus, signal: AbortSignal, embedding?: EmbeddingReport, rate?: EmbeddingRate): Promise<void> {
  const shardBytes = shardBytesOf(values);
  const threads = Math.round(positive(values.threads, 'threads'));
  const choice = embedderChoice(values);
  // A server embeds with its own hardware: its batches run concurrently from this one thread.
  const embedder = threads > 1 && choice.kind !== 'openai' ? await startPool(choice, threads) : await loadEmbedder(choice);
  const batchSize = values.batch ? Math.round(positive(values.batch, 'batch')) : undefined;
  const onEmbedded = embedding?.update ?? rate?.update;
  const options: BuildOptions = { outDir: resolve(values.out), embedder, shardBytes, cacheDir: resolve(values['cache-dir']), signal, progress: terminalProgress(), dense: denseChoiceOf(values), ...(batchSize && { batchSize }), ...(onEmbedded && { onEmbedded }) };
  try {
    const started = performance.now();
    const report = await buildIndex(corpus.input, options).catch((error: unknown) => {
      if (error instanceof NoPassagesError) corpus.report();
      throw error;
    });
    corpus.report();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const { manifest } = report;
    const files = indexFiles(manifest);
    const lexical = sumBytes([manifest.lexical.dictionary, ...manifest.lexical.files]);
    console.log(`${manifest.passages.count} passages, ${files.length} files, ${(report.bytes / 1e6).toFixed(1)} MB (${Math.round(report.bytes / manifest.passages.count)} bytes/passage, lexical ${Math.round(lexical / manifest.passages.count)}) -> ${options.outDir} in ${seconds} s, peak memory ${peakMemoryMB()} MB`);
    if (embedder) console.log(`embeddings (${embedder.spec.id}): ${report.embedded} computed, ${report.fromCache} from the resume cache`);
    if (manifest.vectors?.encoding === 'ivf-pq') console.log(`dense index: IVF-PQ, ${manifest.vectors.lists} lists, ${manifest.vectors.subquantizers} code bytes a passage, ${manifest.vectors.nprobe} lists scanned a query (--dense flat for the exact scan)`);
    if (registerIndex(resolve('public'), options.outDir, manifest)) console.log(`listed in public/${CATALOG_FILE}: the app offers it under "Index"`);
  } finally {
    embedding?.stop();
    await embedder?.instance.dispose();
  }
}

/** The background embedding's progress: a bar on the terminal and a file beside the manifest for the page. */
interface EmbeddingReport {
  update(embedded: number): void;
  stop(): void;
}

function embeddingReport(outDir: string, total: number): EmbeddingReport {
  const file = resolve(outDir, EMBEDDING_PROGRESS_FILE);
  const bar = terminalProgress();
  const write = (progress: EmbeddingProgress) => {
    // Renamed into place: the page polls the file and must never read half of it.
    writeFileSync(`${file}.partial`, JSON.stringify(progress));
    renameSync(`${file}.partial`, file);
  };
  bar.start('embedding the demo passages', total);
  write({ embedded: 0, total });
  return {
    update(embedded) {
      bar.update(embedded);
      write({ embedded, total });
    },
    // Done or stopped, the file goes: a page then re-opens the manifest, complete or still lexical-only.
    stop() {
      bar.stop();
      rmSync(file, { force: true });
    },
  };
}

/** Where the demo's passages come from: ../shared/data when it is beside the checkout, else a download. */
interface DemoSource {
  kind: 'jsonl' | 'hotpotqa-json';
  sha256: string;
  /** The source file, downloaded first when it is not here yet. */
  file(): Promise<string>;
  corpus(file: string, progress?: Progress): Promise<Corpus>;
}

async function demoSource(values: Values): Promise<DemoSource> {
  const chunkWords = chunkWordsOf(values);
  if (existsSync(SHARED_DEMO_SOURCE)) {
    const sha256 = await fileSha256(SHARED_DEMO_SOURCE);
    return { kind: 'jsonl', sha256, file: async () => SHARED_DEMO_SOURCE, corpus: async (file, progress) => jsonlCorpus(DEMO_NAME, file, chunkWords, sha256, 'jsonl', progress) };
  }
  const download = demoDownload();
  return {
    kind: 'hotpotqa-json',
    sha256: download.sha256,
    file: () => {
      console.log(`No ../shared/data here: fetching the HotpotQA development file once (${download.url}).`);
      return ensureDownload(download, resolve(values['cache-dir'], 'downloads'), terminalProgress());
    },
    corpus: async (file) => listCorpus(DEMO_NAME, file, await readHotpotJson(file, DEMO_QUESTIONS, chunkWords), chunkWords, download.sha256),
  };
}

/**
 * The demo index, built only as far as it is missing: nothing while it is current; with
 * `--lexical-first` (npm run dev) a lexical-only index when it is stale, and nothing more; otherwise
 * the vectors too (a lexical-only index is partial: its vectors are embedded, the lexical part is
 * written again byte for byte).
 */
async function demo(values: Values): Promise<void> {
  const outDir = resolve(values.out);
  const existing = currentManifest(outDir);
  const source = await demoSource(values);
  const state = demoIndexState(existing, source.sha256, { complete: builderKey(chunkWordsOf(values), shardBytesOf(values), USE_LITE_ID), lexical: builderKey(chunkWordsOf(values), shardBytesOf(values), null) });
  const current = state === 'complete' || (state === 'partial' && values['lexical-first']);
  // Catalogues from before an index existed (or edited by hand) get their demo entry back.
  if (current && existing) registerIndex(resolve('public'), outDir, existing);
  const questions = resolve(outDir, QUESTIONS_FILE);
  if (current && existsSync(questions)) return;
  const file = await source.file();
  if (!current) {
    const lexicalOnly = values['lexical-first'];
    console.log(state === 'partial' ? EMBEDDING : lexicalOnly ? BUILDING_LEXICAL : BUILDING);
    // Resuming a partial index: the passage count is known, so the embedding gets a bar of its own.
    const embedding = state === 'partial' && existing ? embeddingReport(outDir, existing.passages.count) : undefined;
    const corpus = await source.corpus(file, embedding && silentProgress);
    await build({ ...values, embedder: lexicalOnly ? 'none' : 'use-lite' }, corpus, interruptible(), embedding);
  }
  // The benchmark page's questions go with the index: rewritten whenever the index is.
  writeDemoQuestions(outDir, { kind: source.kind, path: file }, DEMO_QUESTIONS);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS });
  // Before the embedding threads start: new threads inherit the priority.
  if (values['low-priority']) setPriority(constants.priority.PRIORITY_BELOW_NORMAL);
  if (values.demo) return demo(values);
  if (!values.input) throw new Error(USAGE);
  const signal = interruptible();
  const rate = new EmbeddingRate();
  return build(values, await openCorpus(values, resolve(values.input), chunkWordsOf(values), signal, rate), signal, undefined, rate);
}

runCommand('index-builder', main);
