/**
 * `npm run search`: an index (lexically unless told otherwise) or a retrieval server, from a shell.
 *
 *   npm run search -- --index <dir> [--k 5] [--mode lexical|dense|hybrid] "a query"
 *                                                               a table: rank, score, title, id
 *   npm run search -- --index <dir> [--k 5] --queries <file>   one query a line in, one JSON line a query
 *                                                               out: {"query", "ms", "hits": [{"id", "title", "score"}]}
 *   npm run search -- --retrieval-server <url> …               the same, from a Search-R1 retrieval server
 *
 * Logs go to stderr, so stdout is only the answer: how long the index took to open and what it read,
 * what the first (cold) query read, and with --queries the latency percentiles and peak memory. A
 * server's own index is not ours to measure: only the latencies are logged for it.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand } from './command.ts';
import { loadQueryEmbedder } from '../../index-builder/embedders.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import type { Passage } from '../core/agent/retriever.ts';
import { RemoteRetriever } from '../retrieval/remote-retriever.ts';
import { RETRIEVAL_MODES, type RetrievalMode } from '../retrieval/sharded-index.ts';

const USAGE = 'usage: npm run search -- --index <dir> [--mode lexical|dense|hybrid] [--model-dir <folder>] | --retrieval-server <http://host:8000> [--k 5] "a query" | --queries <file>';
/** A query line longer than this is cut: the index looks up at most 64 distinct terms anyway. */
const MAX_QUERY_CHARS = 10_000;

/** What is searched: its top k for a query, and the bytes read so far (null where that is not ours to count). */
interface Source {
  search(query: string, k: number): Promise<Passage[]>;
  bytesRead(): number | null;
}

async function main(): Promise<void> {
  const options = { index: { type: 'string' }, 'retrieval-server': { type: 'string' }, k: { type: 'string', default: '5' }, queries: { type: 'string' }, mode: { type: 'string', default: 'lexical' }, 'model-dir': { type: 'string' } } as const;
  const { values, positionals } = parseArgs({ options, allowPositionals: true });
  const k = Number(values.k);
  const mode = RETRIEVAL_MODES.find((m) => m === values.mode);
  const server = values['retrieval-server'];
  if (values.index && server) throw new Error('give --index or --retrieval-server, not both');
  if (!(values.index ?? server) || !mode || !Number.isInteger(k) || k < 1 || k > 1000 || (!values.queries && positionals.length === 0)) throw new Error(USAGE);
  const source = server ? remoteSource(server) : await indexSource(resolve(values.index ?? ''), mode, values['model-dir']);
  const queries = values.queries ? readFileSync(values.queries, 'utf8').split('\n').filter((line) => line.trim()) : [positionals.join(' ')];
  const results = [];
  for (const [i, query] of queries.entries()) {
    const before = source.bytesRead() ?? 0;
    const result = await answer(source, query, k);
    if (i === 0) console.error(`first query: ${result.ms} ms${readSince(source, before, '')}`);
    if (values.queries) process.stdout.write(`${JSON.stringify(result)}\n`);
    results.push(result);
  }
  if (!values.queries) return void console.table(results[0]?.hits.map((hit, i) => ({ rank: i + 1, score: Number(hit.score.toFixed(3)), title: hit.title, id: hit.id })));
  const sorted = results.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  console.error(`${results.length} queries: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms${readSince(source, 0, ' in all')}, peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
}

async function indexSource(folder: string, mode: RetrievalMode, modelDir?: string): Promise<Source> {
  const read = { bytes: 0 };
  const started = performance.now();
  const index = await openIndexFolder(folder, { onFetched: (bytes) => (read.bytes += bytes), embedder: await queryEmbedder(folder, mode, modelDir) });
  if (!index.modes.includes(mode)) throw new Error(`${mode} search is not available for this index: ${index.denseUnavailable ?? ''}`);
  // The dictionary and passage table come through whole-file reads, not ranges: count them from the manifest.
  const { lexical, passages } = index.manifest;
  console.error(`${index.manifest.name}: ${index.size} passages, opened in ${ms(performance.now() - started)} ms, ${kb(lexical.dictionary.bytes + passages.table.bytes)} KB read`);
  return { search: (query, k) => index.search(query, { mode, k }), bytesRead: () => read.bytes };
}

/** A server that is down, slow or answers something else fails the first query with the retriever's error. */
function remoteSource(url: string): Source {
  const retriever = new RemoteRetriever(url);
  console.error(`searching the retrieval server at ${retriever.endpoint}`);
  return { search: (query, k) => retriever.search(query, k), bytesRead: () => null };
}

const ms = (value: number) => value.toFixed(1);
const kb = (bytes: number) => (bytes / 1024).toFixed(1);
/** `, 12.3 KB read` since `before`, or nothing for a source whose reads are not counted. */
function readSince(source: Source, before: number, suffix: string): string {
  const bytes = source.bytesRead();
  return bytes === null ? '' : `, ${kb(bytes - before)} KB read${suffix}`;
}

/** Dense and hybrid search embed the query as the index's passages were (its server, for an `openai` index). */
async function queryEmbedder(dir: string, mode: RetrievalMode, modelDir?: string) {
  const spec = mode === 'lexical' ? undefined : readManifest(dir).vectors?.embedder;
  return spec ? loadQueryEmbedder(spec, modelDir) : null;
}

async function answer(source: Source, query: string, k: number) {
  const started = performance.now();
  const passages = await source.search(query.slice(0, MAX_QUERY_CHARS), k);
  const ms = performance.now() - started;
  return { query, ms: Number(ms.toFixed(2)), hits: passages.map(({ id, title, score }) => ({ id, title, score: Number(score.toFixed(4)) })) };
}

runCommand('search', main);
