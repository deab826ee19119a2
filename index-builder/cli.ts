/**
 * index-builder: turns a passage corpus into the shards + manifest the app loads.
 *
 *   npm run build-index -- --input <passages.jsonl | benchmark.jsonl> [--out public/index]
 *   npm run build-index -- --input enwiki-latest-pages-articles.xml.bz2 --limit 20000 [--titles titles.txt]
 *   npm run build-index -- --input passages.jsonl --embedder e5 [--model Xenova/e5-base-v2]
 *   npm run build-index -- --demo      (the demo index from ../shared/data, skipped when it is current)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { errorMessage } from '../src/core/error-message.ts';
import { CATALOG_FILE } from '../src/core/index-catalog.ts';
import { parseManifest, type IndexManifest } from '../src/core/index-manifest.ts';
import { buildIndex, builderKey, MANIFEST_FILE, type BuildInput, type BuildOptions } from './build.ts';
import { EmbedderPool } from './embed-pool.ts';
import { loadEmbedder, type EmbedderChoice } from './embedders.ts';
import { USE_LITE_ID } from '../src/embedders/use-lite.ts';
import { registerIndex } from './catalog.ts';
import { terminalProgress } from './progress.ts';
import { demoDownload, ensureDownload, fileSha256 } from './demo-corpus.ts';
import { QUESTIONS_FILE, writeDemoQuestions } from './demo-questions.ts';
import { isWikipediaDump, readHotpotJson, readPassages, readWikipediaPassages, type ReadReport } from './sources.ts';

const SHARED_DEMO_SOURCE = resolve(import.meta.dirname, '../../shared/data/hotpotqa_dev_distractor_400.jsonl');
/** The demo indexes the paragraphs of this many questions: about 4,400 passages, 2½ minutes to embed on two cores. */
const DEMO_QUESTIONS = 400;
const DEMO_NAME = `HotpotQA demo (${DEMO_QUESTIONS} dev questions, 10 paragraphs each)`;
const BUILDING = 'Building the demo index (HotpotQA paragraphs, USE-lite embeddings; resumable if interrupted)…';
const USAGE =
  'usage: npm run build-index -- --input <file.jsonl | dump.xml.bz2> [--out public/index] [--embedder use-lite|e5|none] [--model <hub id>] [--remote-host <url>] [--model-dir <folder>] [--shard-mb 2] [--chunk-words 100] [--threads N] [--limit N] [--titles file]';

const OPTIONS = {
  input: { type: 'string' },
  out: { type: 'string', default: 'public/index' },
  demo: { type: 'boolean', default: false },
  name: { type: 'string' },
  embedder: { type: 'string', default: 'use-lite' },
  'shard-mb': { type: 'string', default: '2' },
  'chunk-words': { type: 'string', default: '100' },
  'cache-dir': { type: 'string', default: '.cache/index-builder' },
  model: { type: 'string' },
  'remote-host': { type: 'string' },
  'model-dir': { type: 'string' },
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

function embedderChoice(values: Values): EmbedderChoice {
  const kind = values.embedder;
  if (kind !== 'use-lite' && kind !== 'e5' && kind !== 'none') throw new Error(`--embedder must be use-lite, e5 or none, got "${kind}"`);
  if (kind !== 'e5' && (values.model || values['remote-host'] || values['model-dir'])) throw new Error('--model, --remote-host and --model-dir go with --embedder e5');
  return { kind, ...(values.model && { model: values.model }), ...(values['remote-host'] && { remoteHost: values['remote-host'] }), ...(values['model-dir'] && { modelDir: resolve(values['model-dir']) }) };
}

function currentManifest(outDir: string): IndexManifest | null {
  try {
    return parseManifest(JSON.parse(readFileSync(resolve(outDir, MANIFEST_FILE), 'utf8')));
  } catch {
    return null;
  }
}

async function readDump(values: Values, input: string, chunkWords: number): Promise<BuildInput> {
  const titles = values.titles ? new Set(readFileSync(values.titles, 'utf8').split('\n').map((t) => t.trim()).filter(Boolean)) : undefined;
  const limit = values.limit ? Math.round(positive(values.limit, 'limit')) : undefined;
  const progress = terminalProgress();
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted while reading the dump')));
  progress.start(`reading ${basename(input)} (bytes)`, statSync(input).size);
  const report = await readWikipediaPassages(input, chunkWords, { ...(titles && { titles }), ...(limit && { limit }), signal: controller.signal, onBytes: (bytes) => progress.update(bytes) });
  progress.stop();
  const { pages, accepted, skipped } = report.stats;
  console.log(`${accepted} articles of ${pages} pages -> ${report.documents.length} passages (${report.duplicates} duplicates merged)`);
  console.log(`pages skipped: ${Object.entries(skipped).map(([reason, n]) => `${n} ${reason}`).join(', ')}${titles ? `; ${pages - accepted - Object.values(skipped).reduce((a, b) => a + b, 0)} not in --titles` : ''}`);
  if (report.documents.length === 0) throw new Error(`${input} yielded no articles`);
  return { name: values.name ?? basename(input), source: { kind: 'wikipedia-dump', file: basename(input), sha256: await fileSha256(input) }, documents: report.documents, chunkWords };
}

async function readInput(values: Values, input: string, chunkWords: number): Promise<BuildInput> {
  if (!existsSync(input)) throw new Error(`input file not found: ${input}`);
  if (isWikipediaDump(input)) return readDump(values, input, chunkWords);
  return corpusInput(values.name ?? basename(input), input, await readPassages(input, chunkWords), chunkWords, 'jsonl');
}

async function corpusInput(name: string, input: string, report: ReadReport, chunkWords: number, kind: IndexManifest['source']['kind']): Promise<BuildInput> {
  if (report.documents.length === 0) throw new Error(`${input} holds no valid passages (${report.skipped.length} bad lines)`);
  console.log(`${report.documents.length} passages from ${report.lines} lines (${report.duplicates} duplicates merged)`);
  if (report.skipped.length) {
    console.warn(`${report.skipped.length} lines skipped:`);
    for (const s of report.skipped.slice(0, 10)) console.warn(`  line ${s.line}: ${s.reason}`);
    if (report.skipped.length > 10) console.warn(`  … and ${report.skipped.length - 10} more`);
  }
  return { name, source: { kind, file: basename(input), sha256: await fileSha256(input) }, documents: report.documents, chunkWords };
}

const chunkWordsOf = (values: Values) => Math.round(positive(values['chunk-words'], 'chunk-words'));
const shardBytesOf = (values: Values) => Math.round(positive(values['shard-mb'], 'shard-mb') * 1024 * 1024);

async function startPool(choice: EmbedderChoice, threads: number): Promise<BuildOptions['embedder']> {
  if (choice.kind === 'none') return null;
  const pool = await EmbedderPool.start(choice, threads);
  return { instance: pool, spec: pool.spec };
}

async function build(values: Values, corpus: BuildInput): Promise<void> {
  const shardBytes = shardBytesOf(values);
  const threads = Math.round(positive(values.threads, 'threads'));
  const embedder = threads > 1 ? await startPool(embedderChoice(values), threads) : await loadEmbedder(embedderChoice(values));
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted: run the same command again to resume')));
  const options: BuildOptions = { outDir: resolve(values.out), embedder, shardBytes, cacheDir: resolve(values['cache-dir']), signal: controller.signal, progress: terminalProgress() };
  try {
    const started = performance.now();
    const report = await buildIndex(corpus, options);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const { manifest } = report;
    const shards = manifest.passages.shards.length + manifest.lexical.shards.length + (manifest.vectors?.shards.length ?? 0);
    console.log(`${manifest.passages.count} passages, ${shards} shards, ${(report.bytes / 1e6).toFixed(1)} MB (${Math.round(report.bytes / manifest.passages.count)} bytes/passage) -> ${options.outDir} in ${seconds} s`);
    if (embedder) console.log(`embeddings (${embedder.spec.id}): ${report.embedded} computed, ${report.fromCache} from the resume cache`);
    if (registerIndex(resolve('public'), options.outDir, manifest)) console.log(`listed in public/${CATALOG_FILE}: the app offers it under "Index"`);
  } finally {
    await embedder?.instance.dispose();
  }
}

/** The demo index, rebuilt only when its source or the builder's settings changed. */
async function demo(values: Values): Promise<void> {
  const existing = currentManifest(values.out);
  const key = builderKey(chunkWordsOf(values), shardBytesOf(values), USE_LITE_ID);
  const current = (sha256: string) => {
    const fresh = existing?.builder === key && existing.source.sha256 === sha256;
    // Catalogues from before an index existed (or edited by hand) get their demo entry back.
    if (fresh && existing) registerIndex(resolve('public'), resolve(values.out), existing);
    return fresh;
  };
  const settings = { ...values, embedder: 'use-lite' };
  // The benchmark page's questions go with the index: rewritten whenever the index is.
  const withQuestions = (kind: 'jsonl' | 'hotpotqa-json', path: string, rebuilt: boolean) => {
    if (rebuilt || !existsSync(resolve(values.out, QUESTIONS_FILE))) writeDemoQuestions(resolve(values.out), { kind, path }, DEMO_QUESTIONS);
  };
  if (existsSync(SHARED_DEMO_SOURCE)) {
    const stale = !current(await fileSha256(SHARED_DEMO_SOURCE));
    if (stale) {
      console.log(BUILDING);
      const report = await readPassages(SHARED_DEMO_SOURCE, chunkWordsOf(values));
      await build(settings, await corpusInput(DEMO_NAME, SHARED_DEMO_SOURCE, report, chunkWordsOf(values), 'jsonl'));
    }
    return withQuestions('jsonl', SHARED_DEMO_SOURCE, stale);
  }
  const download = demoDownload();
  if (current(download.sha256) && existsSync(resolve(values.out, QUESTIONS_FILE))) return;
  console.log(`No ../shared/data here: fetching the HotpotQA development file once (${download.url}).`);
  const file = await ensureDownload(download, resolve(values['cache-dir'], 'downloads'), terminalProgress());
  const stale = !current(download.sha256);
  if (stale) {
    console.log(BUILDING);
    const report = await readHotpotJson(file, DEMO_QUESTIONS, chunkWordsOf(values));
    await build(settings, await corpusInput(DEMO_NAME, file, report, chunkWordsOf(values), 'hotpotqa-json'));
  }
  withQuestions('hotpotqa-json', file, stale);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS });
  if (values.demo) return demo(values);
  if (!values.input) throw new Error(USAGE);
  return build(values, await readInput(values, resolve(values.input), chunkWordsOf(values)));
}

main().catch((error: unknown) => {
  console.error(`index-builder: ${errorMessage(error)}`);
  process.exit(1);
});
