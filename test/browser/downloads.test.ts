/**
 * A model download cut off half-way, in Debian's Chromium with the real wllama engine: the load fails
 * with a readable error, nothing half-downloaded is kept as the model, and the next load downloads it
 * whole and runs it. Then a wrong URL costs the user nothing (the model stays), and Unload frees it.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedChromium } from './chromium.ts';
import { openPanel, startAppFixture, waitForStatus, type AppFixture } from './app-fixture.ts';

let app: AppFixture;
let browser: LaunchedChromium;
let modelRequests = 0;
let page: Page;

beforeAll(async () => {
  // The model's first download drops after 1 MB. The load's check before it reads 64 bytes, so it is
  // the second request at most that the cut hits.
  app = await startAppFixture({ questions: 3, embedder: { kind: 'none' }, cutAfter: (path) => (path.endsWith('.gguf') && ++modelRequests <= 2 ? 1_000_000 : undefined) });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('an interrupted model download', () => {
  it('fails readably, keeps nothing broken, and the next load downloads the model whole', async () => {
    page = await browser.context.newPage();
    await page.goto(app.server.url);
    await waitForStatus(page, 'index', 'ready');
    await openPanel(page, 'model');
    await page.fill('input[name=gguf-url]', app.modelUrl);
    await page.click('text=Load model');
    await waitForStatus(page, 'engine', 'error');
    expect(await page.textContent('[data-testid=engine-status]')).toMatch(/The download of tiny-qwen3\.gguf was interrupted( after [\d.]+ of [\d.]+ MB)? \(.+\)\. Press Load model to download it again\./);

    // The failed load left its panel open, with the reason in it.
    await page.click('text=Load model');
    await waitForStatus(page, 'engine', 'ready');
    // Downloaded again, not read from a half-written cache entry.
    expect(await page.textContent('[data-testid=engine-status]')).not.toContain('loaded from cache');
    // Two checks of the first bytes, and two downloads.
    expect(modelRequests).toBeGreaterThanOrEqual(4);
    await page.click('button:text-is("Ask")');
    await page.waitForSelector('[data-kind=end]', { timeout: 120_000 });
    expect(await page.getAttribute('[data-kind=end]', 'data-reason')).not.toBe('error');
  });

  it('a wrong model URL leaves the loaded model in use, and Unload frees it', async () => {
    const missing = `${app.server.url}gguf/missing.gguf`;
    await openPanel(page, 'model');
    await page.fill('input[name=gguf-url]', missing);
    await page.click('text=Load model');
    await page.waitForSelector('[data-testid=engine-notice]');
    expect(await page.textContent('[data-testid=engine-notice]')).toBe(`Not loaded: Could not download ${missing}: HTTP 404. Check the URL. Still using wllama · tiny-qwen3.gguf · CPU.`);
    expect(await page.getAttribute('[data-testid=engine-status]', 'data-status')).toBe('ready');
    expect(await page.isEnabled('button:text-is("Ask")')).toBe(true);

    await page.click('button:text-is("Unload")');
    await page.waitForSelector('[data-testid=engine-status][data-status=idle]', { state: 'attached' });
    expect(await page.isEnabled('button:text-is("Ask")')).toBe(false);
    expect(await page.locator('button:text-is("Unload")').count()).toBe(0);
    await page.close();
  });
});
