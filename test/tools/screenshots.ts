/**
 * Screenshots of the app's pages as a user sees them, light and dark, in Debian's Chromium: the built
 * app, the tiny random-weight model on wllama, a small index of the shared HotpotQA paragraphs.
 * `npx tsx test/tools/screenshots.ts [outDir]` (default .cache/screenshots). The answers are nonsense
 * (random weights); the layout, the trajectory and the numbers are real.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { launchChromium } from '../browser/chromium.ts';
import { loadTinyModel, startAppFixture } from '../browser/app-fixture.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const outDir = resolve(process.argv[2] ?? join(ROOT, '.cache/screenshots'));

/** Each page: how to reach it and what to wait for before the shot. */
const PAGES: { name: string; show: (page: Page) => Promise<void> }[] = [
  {
    name: 'ask',
    show: async (page) => {
      await page.click('button:text-is("Ask")');
      await page.waitForSelector('[data-kind=end]', { timeout: 180_000 });
      await page.locator('[data-kind=passages] summary').first().click();
      await page.locator('[data-testid=citation]').first().click({ timeout: 2_000 }).catch(() => undefined);
    },
  },
  {
    name: 'compare',
    show: async (page) => {
      await page.click('nav >> text=Compare');
      await page.click('button:text-is("Ask")');
      await page.waitForSelector('[data-testid=compare-column][data-policy=no-search][data-status=done]', { timeout: 300_000 });
    },
  },
  {
    name: 'probe',
    show: async (page) => {
      await page.click('nav >> text=Probe');
      await page.waitForSelector('[data-testid=probe-dataset-status]:has-text("questions")');
      await page.fill('input[name=probe-count]', '5');
      await page.click('button:text("Run calibration")');
      await page.waitForSelector('[data-testid=probe-ece]', { timeout: 300_000 });
    },
  },
  {
    name: 'bench',
    show: async (page) => {
      await page.click('nav >> text=Benchmark');
      await page.waitForSelector('[data-testid=dataset-status]:has-text("questions")');
      await page.fill('input[name=bench-count]', '3');
      await page.click('button:text("Start")');
      await page.waitForSelector('[data-testid=bench-runs] tr[data-status=done]', { timeout: 300_000 });
    },
  },
];

async function main(): Promise<void> {
  const app = await startAppFixture({ questions: 10 });
  const browser = await launchChromium();
  mkdirSync(outDir, { recursive: true });
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const { name, show } of PAGES) {
        const page = await browser.context.newPage();
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(app.server.url);
        await loadTinyModel(page, app);
        await page.locator('[data-testid=sample-question]').first().click();
        await show(page);
        const file = join(outDir, `${name}-${scheme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.info(`wrote ${file}`);
        await page.close();
      }
    }
  } finally {
    await browser.close();
    await app.close();
  }
}

await main();
