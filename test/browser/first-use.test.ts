/**
 * What a first-time user hit (#13), in Debian's Chromium on the built app with the tiny random-weight
 * model: an index that fails to open leaves nothing in Storage; a benchmark keeps its form over a reload
 * and says why there is no SFT file rather than writing an empty one.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { launchWatchedChromium, loadTinyModel, openPanel, startAppFixture, waitForStatus, type AppFixture, type WatchedChromium } from './app-fixture.ts';

const QUESTIONS = 2;

let app: AppFixture;
let browser: WatchedChromium;
/** A static host's answer to a path it lacks: its app page, with 200 OK. */
let htmlDir = '';
/** The demo index without its passage table: the manifest and dictionary load, then the open fails. */
let brokenDir = '';

beforeAll(async () => {
  htmlDir = mkdtempSync(join(tmpdir(), 'sdg-html-'));
  writeFileSync(join(htmlDir, 'manifest.json'), '<!doctype html><html><body>Search, Don’t Guess</body></html>');
  brokenDir = mkdtempSync(join(tmpdir(), 'sdg-broken-'));
  app = await startAppFixture({ questions: QUESTIONS, embedder: { kind: 'none' }, mounts: { '/nope/': htmlDir, '/broken/': brokenDir } });
  cpSync(app.indexDir, brokenDir, { recursive: true });
  rmSync(join(brokenDir, readManifest(brokenDir).passages.table.path));
  browser = await launchWatchedChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  for (const dir of [htmlDir, brokenDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

async function loadIndex(page: Page, url: string): Promise<void> {
  await openPanel(page, 'index');
  await page.fill('input[name=index]', url);
  await page.click('button:text-is("Load index")');
}

/** Opens the Storage panel and waits until it has read what is stored. */
async function openStorage(page: Page): Promise<void> {
  await openPanel(page, 'storage');
  await page.waitForSelector('[data-testid=storage-entries][data-status=ready]');
}

describe('an index that fails to open', () => {
  it('leaves no entry in Storage, and the index that was open stays listed', async () => {
    const page = await browser.context.newPage();
    await page.goto(app.server.url);
    await waitForStatus(page, 'index', 'ready');
    for (const url of ['./nope/manifest.json', './broken/manifest.json']) {
      await loadIndex(page, url);
      await page.waitForSelector(`[data-testid=index-notice]:has-text("Could not open ${url}")`);
    }
    await openStorage(page);
    const labels = await page.locator('[data-testid=storage-entry][data-kind=index] [data-field=label]').allTextContents();
    expect(labels).toEqual([`Index: HotpotQA, ${QUESTIONS} questions`]);
    await page.close();
  });
});

describe('the benchmark page', () => {
  it('says no trace passed the ASP filter instead of exporting an empty SFT file, and keeps its form over a reload', async () => {
    const page = await browser.context.newPage();
    await page.goto(app.server.url);
    await loadTinyModel(page, app);
    await page.evaluate(() => (location.hash = '#/bench'));
    await page.waitForSelector(`[data-testid=dataset-status]:has-text("${QUESTIONS} questions")`);
    await page.fill('input[name=bench-count]', '1');
    // A guess never searched, so no trace can pass the filter.
    await page.selectOption('select[name=bench-policy]', 'no-search');
    await page.click('button:text-is("Start")');
    await page.waitForSelector('[data-testid=bench-runs] tr[data-status=done]', { timeout: 120_000 });
    const downloads: string[] = [];
    page.on('download', (download) => void downloads.push(download.suggestedFilename()));
    await page.click('[data-testid=bench-runs] button:text-is("SFT")');
    expect(await page.textContent('[data-testid=export-note]')).toBe('No trace passed the ASP filter: nothing to export.');
    await page.click('[data-testid=bench-runs] button:text-is("CSV")');
    await expect.poll(() => downloads).toHaveLength(1);
    expect(downloads[0]).toMatch(/\.csv$/);
    expect(await page.locator('[data-testid=export-note]').count()).toBe(0);

    await page.reload();
    await page.waitForSelector(`[data-testid=dataset-status]:has-text("${QUESTIONS} questions")`);
    expect(await page.inputValue('input[name=bench-count]')).toBe('1');
    expect(await page.inputValue('select[name=bench-policy]')).toBe('no-search');
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });
});
