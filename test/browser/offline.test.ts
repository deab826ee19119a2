/**
 * Offline, in Debian's Chromium, with the built app served by `vite preview` as `npm run preview` does:
 * it gzips the GGUF and so sends no Content-Length, as most static hosts do. The app is loaded once
 * online (the service worker takes control, the index shards are cached, the tiny GGUF is downloaded
 * and loaded once); a reload loads the model by itself from the browser's store, fetching none of it;
 * then the server is stopped and the context set offline, and the page is reloaded. The app must open,
 * the index answer, the stored model load by itself and a question get a bounded run. Then the Storage
 * panel lists what is kept, the model whole, with sizes, and deleting the index removes it.
 */
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Page } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { eagerVectorFiles } from '../../src/core/index/index-manifest.ts';
import { BOUNDED_ENDS, cspViolations, demoQuestions, launchWatchedChromium, openPanel, startAppFixture, waitForStatus, type AppFixture, type WatchedChromium } from './app-fixture.ts';
import { SHARD_CACHE_NAME } from '../../src/retrieval/cache-storage.ts';

let app: AppFixture;
let browser: WatchedChromium;
let page: Page;
/** The built app with its index and the tiny model beside it, as a site would deploy them, under vite preview. */
let site: PreviewServer;
let siteUrl = '';
let modelUrl = '';

beforeAll(async () => {
  app = await startAppFixture({ questions: 5 });
  cpSync(app.indexDir, join(app.appDir, 'index'), { recursive: true });
  mkdirSync(join(app.appDir, 'gguf'));
  cpSync(app.modelPath, join(app.appDir, 'gguf', basename(app.modelPath)));
  site = await preview({ configFile: false, logLevel: 'warn', build: { outDir: app.appDir }, preview: { host: '127.0.0.1', port: 0 } });
  siteUrl = site.resolvedUrls?.local[0] ?? '';
  modelUrl = `${siteUrl}gguf/${basename(app.modelPath)}`;
  browser = await launchWatchedChromium();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await app?.close();
});

/** What must be cached to open and search offline: the manifest, the files read whole on open (term
 * dictionary, passage table, vectors) and every range of the others, counted by a prefetch in Node. */
async function indexCacheEntries(): Promise<number> {
  let ranges = 0;
  const index = await openIndexFolder(app.indexDir, { onFetched: () => ranges++ });
  if (!(await index.prefetch())) throw new Error('the test index is too large to copy whole');
  const { passages, lexical, vectors } = index.manifest;
  return 1 + [lexical.dictionary, passages.table, ...eagerVectorFiles(vectors)].length + ranges;
}

async function loadModel(): Promise<void> {
  await openPanel(page, 'model');
  await page.fill('input[name=gguf-url]', modelUrl);
  await page.click('text=Load model');
  await engineReady();
}

const engineReady = () => waitForStatus(page, 'engine', 'ready');
const ggufRequests = () => browser.requests.urls.filter((url) => url.endsWith('.gguf')).length;

describe('the app offline, after one visit online', () => {
  it('the preview server compresses the GGUF, so it sends no Content-Length', async () => {
    const response = await fetch(modelUrl, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    expect(response.headers.get('content-length')).toBeNull();
    await response.body?.cancel();
  });

  it('reloads with the network cut: opens, searches the cached index and runs the stored model, loaded by itself', async () => {
    page = await browser.context.newPage();
    await page.goto(siteUrl);
    // The service worker takes control of this first page (clientsClaim) once its precache is complete.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 120_000 });
    await loadModel();
    await waitForStatus(page, 'index', 'ready');
    // The passages load lazily; the app fetches the rest in the background, and all of it is cached.
    const expected = await indexCacheEntries();
    await page.waitForFunction(
      async ({ name, count }) => (await (await caches.open(name)).keys()).length >= count,
      { name: SHARD_CACHE_NAME, count: expected },
      { timeout: 60_000, polling: 250 },
    );

    // Back on the page, the model used last loads by itself from the browser's store: no GGUF byte is fetched.
    const fetched = ggufRequests();
    await page.reload();
    await engineReady();
    expect(await page.textContent('[data-testid=engine-status]')).toContain('loaded from cache');
    expect(ggufRequests()).toBe(fetched);

    await browser.context.setOffline(true);
    await site.close();
    // The network really is gone: a file the service worker does not keep cannot be fetched.
    expect(await page.evaluate(() => fetch('./index/manifest.json?probe', { cache: 'no-store' }).then(() => 'reached', () => 'unreachable'))).toBe('unreachable');

    await page.reload();
    await page.waitForSelector('h1:has-text("Search, Don\'t Guess")');
    await page.waitForSelector('[data-testid=index-chip]:is([data-status=ready], [data-status=error])', { timeout: 60_000 });
    expect(await page.textContent('[data-testid=corpus-status]')).toMatch(/^HotpotQA, 5 questions · \d+ passages$/);
    await engineReady();
    expect(await page.textContent('[data-testid=engine-status]')).toContain('tiny-qwen3.gguf');

    // Dense search: the random model's queries are nonsense to BM25, but the nearest vectors always come
    // back, which also proves the query embedder (USE-lite on tfjs's wasm) runs from the offline copy.
    await openPanel(page, 'settings');
    await page.selectOption('select[name=retrieval-mode]', 'dense');
    expect(await page.locator('[data-testid=dense-unavailable]').count()).toBe(0);
    await page.fill('textarea[name=question]', demoQuestions(1)[0]?.question ?? '');
    await page.click('button:text-is("Ask")');
    await page.waitForSelector('[data-kind=end]', { timeout: 120_000 });
    expect(BOUNDED_ENDS).toContain(await page.getAttribute('[data-kind=end]', 'data-reason'));
    // The service worker, the cached wasm and the offline model all run under the page's Content-Security-Policy.
    expect(await cspViolations(page)).toEqual([]);
    const searches = await page.locator('[data-kind=search]').count();
    expect(searches).toBeGreaterThanOrEqual(1);
    // Each search came back with passages read from the cached shards.
    const found = await page.locator('[data-kind=passages] summary').allTextContents();
    expect(found).toHaveLength(searches);
    for (const text of found) expect(text).toMatch(/^[1-9]\d* passages?/);
    expect(browser.pageErrors).toEqual([]);
  });

  it('lists what is stored with its size, and deleting the index removes it', async () => {
    await openPanel(page, 'storage');
    await page.waitForSelector('[data-testid=storage-entries][data-status=ready]');
    expect(await page.textContent('[data-testid=storage-usage]')).toMatch(/^\s*Using [\d.]+ [KMG]?B of [\d.]+ [KMG]?B available to this site\./);

    const rows = page.locator('[data-testid=storage-entry]');
    const listed = await rows.evaluateAll((trs) =>
      trs.map((tr) => ({ kind: tr.getAttribute('data-kind'), label: tr.querySelector('[data-field=label]')?.textContent ?? '', bytes: Number(tr.querySelector('[data-field=size]')?.getAttribute('data-bytes')) })),
    );
    const index = listed.find((entry) => entry.kind === 'index');
    const model = listed.find((entry) => entry.kind === 'model');
    const offlineCopy = listed.find((entry) => entry.kind === 'app');
    expect(index?.label).toBe('Index: HotpotQA, 5 questions');
    expect(model?.label).toBe('wllama model: tiny-qwen3.gguf');
    // The GGUF is kept whole; the app's offline copy holds at least the 8 MB of wllama's wasm.
    expect(model?.bytes).toBe(readFileSync(app.modelPath).byteLength);
    expect(index?.bytes).toBeGreaterThan(0);
    expect(offlineCopy?.bytes).toBeGreaterThan(8_000_000);

    const indexRow = rows.filter({ hasText: 'Index: HotpotQA, 5 questions' });
    expect(await indexRow.textContent()).toContain('the index is fetched again the next time it is opened');
    await indexRow.locator('button:text("Delete")').click();
    await indexRow.waitFor({ state: 'detached' });
    await page.waitForSelector('[data-testid=storage-entries][data-status=ready]');
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-kind')))).not.toContain('index');
    expect(await page.evaluate(async (name) => (await (await caches.open(name)).keys()).length, SHARD_CACHE_NAME)).toBe(0);

    await page.click('button:text("Keep data (persistent storage)")');
    const persisted = await page.waitForSelector('[data-testid=persist-status]');
    expect(['granted', 'denied']).toContain(await persisted.getAttribute('data-result'));
  });
});
