/**
 * A 100k-passage index opens in Chromium: the scale corpus (the shared questions' paragraphs and 100,000
 * distractors) is written and built in the test, served over HTTP, and opened through the real retrieval
 * worker without copying it for offline use. A query reads only its own dictionary pages, posting lists
 * and passage blocks, and answers exactly as Node does over the same files.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../index-builder/build.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { newTally, streamPassages } from '../../index-builder/sources.ts';
import { indexFiles, sumBytes } from '../../src/core/index/index-manifest.ts';
import { wasmKernel } from '../../vite/wasm-kernel.ts';
import { HOTPOT_PATH, hotpotQuestions } from '../shared-data.ts';
import { launchChromium, serveStatic, type LaunchedChromium, type StaticServer, harnessCaller } from './chromium.ts';
import type { Harness } from './fixtures/retrieval-page/main.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/retrieval-page/', import.meta.url));
const SCALE_CORPUS = resolve(fileURLToPath(new URL('../../../shared/tools/scale-corpus.mjs', import.meta.url)));
const DISTRACTORS = 100_000;

let work = '';
let indexDir = '';
let server: StaticServer;
let browser: LaunchedChromium;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'sdg-scale-'));
  const corpus = join(work, 'corpus.jsonl');
  execFileSync(process.execPath, [SCALE_CORPUS, '--distractors', String(DISTRACTORS), '--out', corpus, '--questions', HOTPOT_PATH], { stdio: 'ignore' });
  indexDir = join(work, 'index');
  await buildIndex({ name: 'scale 100k', source: { kind: 'jsonl', file: 'corpus.jsonl', sha256: '0'.repeat(64) }, documents: streamPassages(corpus, 100, newTally()), chunkWords: 100 }, { outDir: indexDir, embedder: null, shardBytes: 2 * 1024 * 1024, cacheDir: join(work, '.cache') });
  const page = join(work, 'page');
  await build({ configFile: false, root: FIXTURE, base: './', logLevel: 'warn', plugins: [wasmKernel()], worker: { format: 'es', plugins: () => [wasmKernel()] }, build: { outDir: page, emptyOutDir: true, target: 'es2022', reportCompressedSize: false } });
  // Cross-origin isolated, so the page may measure its memory, the worker's included.
  server = await serveStatic({ mounts: { '/': page, '/scale/': indexDir }, crossOriginIsolated: true });
  browser = await launchChromium();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const call = harnessCaller<Harness>();

function ok<T>(outcome: { ok: T } | { error: string }): T {
  if ('error' in outcome) throw new Error(`harness error: ${outcome.error}`);
  return outcome.ok;
}

describe('a 100k-passage index in Chromium', () => {
  it('opens without loading it whole and answers a question as Node does, reading a sliver of it', async () => {
    const manifest = readManifest(indexDir);
    const indexBytes = sumBytes(indexFiles(manifest));
    const page = await browser.context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => document.title === 'ready');
    const { info, copied } = ok(await call(page, 'open', { manifestUrl: '/scale/manifest.json', prefetch: false }));
    expect(info.passages).toBe(manifest.passages.count);
    expect(info.passages).toBeGreaterThan(DISTRACTORS);
    expect(copied).toBe(false);
    const opened = ok(await call(page, 'stats', undefined));

    const question = hotpotQuestions(1)[0]?.question_text ?? '';
    const hits = ok(await call(page, 'search', { query: question, mode: 'lexical', k: 5 }));
    const expected = await (await openIndexFolder(indexDir)).search(question, { mode: 'lexical', k: 5 });
    expect(hits.map((h) => h.id)).toEqual(expected.map((h) => h.id));
    expect(hits).toHaveLength(5);

    const after = ok(await call(page, 'stats', undefined));
    const workerBytes = await page.evaluate(async () => {
      type Part = { bytes: number; attribution: { scope: string }[] };
      const measured = await (performance as Performance & { measureUserAgentSpecificMemory(): Promise<{ breakdown: Part[] }> }).measureUserAgentSpecificMemory();
      return measured.breakdown.filter((part) => part.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((sum, part) => sum + part.bytes, 0);
    });
    const queryBytes = after.fetched.network - opened.fetched.network;
    console.log(
      `100k-passage index (${(indexBytes / 1e6).toFixed(1)} MB): the cold query read ${(queryBytes / 1024).toFixed(0)} KB; ` +
        `the worker holds ${((after.memory?.lexicalBytes ?? 0) / 1024).toFixed(0)} KB of lexical pages and lists, ${((after.memory?.passageBytes ?? 0) / 1024).toFixed(0)} KB of passages` +
        `; the worker's JS memory is ${(workerBytes / 1e6).toFixed(1)} MB`,
    );
    // The bound for a cold query at 1M passages is 1.5 MB; here it is a fraction of the index.
    expect(queryBytes).toBeGreaterThan(0);
    expect(queryBytes).toBeLessThan(1.5 * 1024 * 1024);
    expect(after.fetched.network).toBeLessThan(indexBytes / 20);
    // A worker holding the whole index would take well over its 45 MB (the old format took 460 MB per 100k).
    expect(workerBytes).toBeGreaterThan(0);
    expect(workerBytes).toBeLessThan(64 * 1024 * 1024);
    await page.close();
  });
});
