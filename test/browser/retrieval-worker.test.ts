/**
 * The retrieval worker in Debian's Chromium: a real index built by the index builder (USE-lite vectors,
 * BM25, checksummed shards), opened through the app's RetrievalClient, with the query embedder running
 * on TensorFlow.js's wasm backend inside the worker.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USE_LITE_DIR } from '../../index-builder/use-lite-files.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { indexFiles, vectorFiles } from '../../src/core/index/index-manifest.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import { ensureTinyBert } from '../tools/make-tiny-bert.mjs';
import { wasmKernel } from '../../vite/wasm-kernel.ts';
import { buildSmallIndex } from '../tools/small-index.ts';
import { launchChromium, RequestLog, serveStatic, type LaunchedChromium, type StaticServer, harnessCaller } from './chromium.ts';
import type { Harness } from './fixtures/retrieval-page/main.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/retrieval-page/', import.meta.url));

let outDir = '';
let indexDir = '';
let corruptDir = '';
let vanishingDir = '';
let e5Dir = '';
let ivfDir = '';
let documents: Document[] = [];
let server: StaticServer;
let browser: LaunchedChromium;
let requests: RequestLog;

const call = harnessCaller<Harness>();

function copyIndex(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sdg-index-copy-'));
  cpSync(indexDir, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'sdg-retrieval-page-'));
  indexDir = mkdtempSync(join(tmpdir(), 'sdg-index-'));
  await build({ configFile: false, root: FIXTURE, base: './', logLevel: 'warn', plugins: [wasmKernel()], worker: { format: 'es', plugins: () => [wasmKernel()] }, build: { outDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false } });
  documents = await buildSmallIndex(indexDir, 4);
  corruptDir = copyIndex();
  const manifest = readManifest(corruptDir);
  const shard = vectorFiles(manifest.vectors)[0];
  if (!shard) throw new Error('the small index has no vectors');
  const bytes = readFileSync(join(corruptDir, shard.path));
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x40;
  writeFileSync(join(corruptDir, shard.path), bytes);
  vanishingDir = copyIndex();
  e5Dir = mkdtempSync(join(tmpdir(), 'sdg-e5-index-'));
  const tinyBert = ensureTinyBert();
  await buildSmallIndex(e5Dir, 4, 16 * 1024, { kind: 'e5', model: basename(tinyBert), modelDir: dirname(tinyBert) });
  // The same passages as an IVF-PQ index; their vectors come from the first build's resume cache.
  ivfDir = mkdtempSync(join(tmpdir(), 'sdg-ivf-index-'));
  cpSync(join(indexDir, '.cache'), join(ivfDir, '.cache'), { recursive: true });
  await buildSmallIndex(ivfDir, 4, 16 * 1024, { kind: 'use-lite' }, 'ivf-pq');
  server = await serveStatic({
    mounts: { '/': outDir, '/index/': indexDir, '/corrupt/': corruptDir, '/vanishing/': vanishingDir, '/e5/': e5Dir, '/ivf/': ivfDir, '/models/use-lite/': USE_LITE_DIR, '/hf/': dirname(tinyBert) },
  });
  browser = await launchChromium();
  requests = new RequestLog(browser.context);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const dir of [outDir, indexDir, corruptDir, vanishingDir, e5Dir, ivfDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function harnessPage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.title === 'ready');
  return page;
}

function ok<T>(outcome: { ok: T } | { error: string }): T {
  if ('error' in outcome) throw new Error(`harness error: ${outcome.error}`);
  return outcome.ok;
}

describe('the retrieval worker in Chromium', () => {
  it('opens the index with progress and finds a passage by its content in every mode', async () => {
    const page = await harnessPage();
    const { info, progress } = ok(await call(page, 'open', { manifestUrl: '/index/manifest.json' }));
    expect(info).toMatchObject({ passages: documents.length, modes: ['hybrid', 'lexical', 'dense'], embedder: 'use-lite', denseUnavailable: null });
    expect(progress).toBeGreaterThan(0);
    const target = documents[11];
    if (!target) throw new Error('index too small');
    for (const mode of info.modes) {
      const hits = ok(await call(page, 'search', { query: `${target.title}\n${target.text}`, mode, k: 3 }));
      expect(hits[0], mode).toMatchObject({ id: target.id, title: target.title, text: target.text });
      expect(hits.length).toBe(3);
    }
    expect(requests.offMachine()).toEqual([]);
    await page.close();
  });

  it('answers dense and hybrid search from an IVF-PQ index, fetching its quantizer, lists and rows', async () => {
    const page = await harnessPage();
    const { info } = ok(await call(page, 'open', { manifestUrl: '/ivf/manifest.json' }));
    expect(info).toMatchObject({ passages: documents.length, embedder: 'use-lite', denseUnavailable: null });
    const target = documents[11];
    if (!target) throw new Error('index too small');
    for (const mode of ['dense', 'hybrid'] as const) {
      const hits = ok(await call(page, 'search', { query: `${target.title}\n${target.text}`, mode, k: 3 }));
      expect(hits[0], mode).toMatchObject({ id: target.id, text: target.text });
    }
    for (const part of ['ivf-quantizer-', 'ivf-lists-', 'ivf-rows-']) expect(requests.urls.some((url) => url.includes(`/ivf/${part}`)), part).toBe(true);
    expect(requests.offMachine()).toEqual([]);
    await page.close();
  });

  it('embeds queries with the transformers.js model an index was built with, from self-hosted files', async () => {
    const page = await harnessPage();
    const { info } = ok(await call(page, 'open', { manifestUrl: '/e5/manifest.json', embeddingModelsUrl: '/hf/' }));
    expect(info).toMatchObject({ embedder: 'transformers:tiny-bert', modes: ['hybrid', 'lexical', 'dense'], denseUnavailable: null });
    const target = documents[5];
    if (!target) throw new Error('index too small');
    // Random weights rank nothing by meaning, but the passage's own text (as the builder embedded it)
    // must come out on top: the browser embeds exactly as Node did.
    const hits = ok(await call(page, 'search', { query: `${target.title}\n${target.text}`, mode: 'dense', k: 3 }));
    expect(hits[0]?.id).toBe(target.id);
    expect(requests.offMachine()).toEqual([]);
    await page.close();
  });

  it("says why dense search is off when the index's embedding model cannot be fetched", async () => {
    const page = await harnessPage();
    const { info } = ok(await call(page, 'open', { manifestUrl: '/e5/manifest.json', embeddingModelsUrl: '/no-models-here/' }));
    expect(info.modes).toEqual(['lexical']);
    expect(info.denseUnavailable).toMatch(/could not load the embedding model tiny-bert/);
    await page.close();
  });

  it('drops a query overtaken by a newer one', async () => {
    const page = await harnessPage();
    ok(await call(page, 'open', { manifestUrl: '/index/manifest.json' }));
    const [first, second] = await call(page, 'overtake', { first: 'who directed the film', second: 'which city hosted the games', mode: 'dense' });
    expect(first).toEqual({ error: expect.stringContaining('newer query') });
    expect(ok(second)).toHaveLength(3);
    await page.close();
  });

  it('refuses an index with a corrupt shard, naming the shard', async () => {
    const page = await harnessPage();
    const outcome = await call(page, 'open', { manifestUrl: '/corrupt/manifest.json' });
    expect(outcome).toEqual({ error: expect.stringMatching(/index shard vectors-000-[0-9a-f]+\.bin is corrupt/) });
    await page.close();
  });

  it('opens an index again from its cache once the server no longer has the shards', async () => {
    const first = await harnessPage();
    ok(await call(first, 'open', { manifestUrl: '/vanishing/manifest.json' }));
    await first.close();
    for (const file of indexFiles(readManifest(vanishingDir))) unlinkSync(join(vanishingDir, file.path));
    const again = await harnessPage();
    const { info } = ok(await call(again, 'open', { manifestUrl: '/vanishing/manifest.json' }));
    expect(info.passages).toBe(documents.length);
    expect(ok(await call(again, 'search', { query: documents[3]?.text ?? '', mode: 'lexical', k: 1 }))[0]?.id).toBe(documents[3]?.id);
    await again.close();
  });
});
