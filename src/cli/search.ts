/**
 * `npm run search`: an index from a shell, lexically unless told otherwise.
 *
 *   npm run search -- --index <dir> [--k 5] [--mode lexical|dense|hybrid] "a query"
 *                                                               a table: rank, score, title, id
 *   npm run search -- --index <dir> [--k 5] --queries <file>   one query a line in, one JSON line a query
 *                                                               out: {"query", "ms", "hits": [{"id", "title", "score"}]}
 *
 * Logs go to stderr, so stdout is only the answer: how long the index took to open and what it read,
 * what the first (cold) query read, and with --queries the latency percentiles and peak memory.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand } from './command.ts';
import { loadQueryEmbedder } from '../../index-builder/embedders.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { RETRIEVAL_MODES, type RetrievalMode, type ShardedIndex } from '../retrieval/sharded-index.ts';

const USAGE = 'usage: npm run search -- --index <dir> [--k 5] [--mode lexical|dense|hybrid] [--model-dir <folder>] "a query" | --queries <file>';
/** A query line longer than this is cut: the index looks up at most 64 distinct terms anyway. */
const MAX_QUERY_CHARS = 10_000;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ options: { index: { type: 'string' }, k: { type: 'string', default: '5' }, queries: { type: 'string' }, mode: { type: 'string', default: 'lexical' }, 'model-dir': { type: 'string' } }, allowPositionals: true });
  const k = Number(values.k);
  const mode = RETRIEVAL_MODES.find((m) => m === values.mode);
  if (!values.index || !mode || !Number.isInteger(k) || k < 1 || k > 1000 || (!values.queries && positionals.length === 0)) throw new Error(USAGE);
  const dir = resolve(values.index);
  const read = { bytes: 0 };
  const started = performance.now();
  const index = await openIndexFolder(dir, { onFetched: (bytes) => (read.bytes += bytes), embedder: await queryEmbedder(dir, mode, values['model-dir']) });
  if (!index.modes.includes(mode)) throw new Error(`${mode} search is not available for this index: ${index.denseUnavailable ?? ''}`);
  // The dictionary and passage table come through whole-file reads, not ranges: count them from the manifest.
  const { lexical, passages } = index.manifest;
  console.error(`${index.manifest.name}: ${index.size} passages, opened in ${ms(performance.now() - started)} ms, ${kb(lexical.dictionary.bytes + passages.table.bytes)} KB read`);
  const queries = values.queries ? readFileSync(values.queries, 'utf8').split('\n').filter((line) => line.trim()) : [positionals.join(' ')];
  const results = [];
  for (const [i, query] of queries.entries()) {
    const before = read.bytes;
    const result = await answer(index, query, k, mode);
    if (i === 0) console.error(`first query: ${result.ms} ms, ${kb(read.bytes - before)} KB read`);
    if (values.queries) process.stdout.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  }
  if (!values.queries) return void console.table(results[0]?.hits.map((hit, i) => ({ rank: i + 1, score: Number(hit.score.toFixed(3)), title: hit.title, id: hit.id })));
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  console.error(`${results.length} queries: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, ${kb(read.bytes)} KB read in all, peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
}

const ms = (value: number) => value.toFixed(1);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);

/** Dense and hybrid search embed the query as the index's passages were (its server, for an `openai` index). */
async function queryEmbedder(dir: string, mode: RetrievalMode, modelDir?: string) {
  const spec = mode === 'lexical' ? undefined : readManifest(dir).vectors?.embedder;
  return spec ? loadQueryEmbedder(spec, modelDir) : null;
}

async function answer(index: ShardedIndex, query: string, k: number, mode: RetrievalMode) {
  const started = performance.now();
  const passages = await index.search(query.slice(0, MAX_QUERY_CHARS), { mode, k });
  const ms = performance.now() - started;
  return { query, ms: Number(ms.toFixed(2)), hits: passages.map(({ id, title, score }) => ({ id, title, score: Number(score.toFixed(4)) })) };
}

runCommand('search', main);
