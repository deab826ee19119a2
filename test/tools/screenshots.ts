/**
 * Screenshots of the app's pages as a user sees them, light and dark, in Debian's Chromium: the built
 * app, the tiny random-weight model on wllama, a small index of the shared HotpotQA paragraphs.
 * `npx tsx test/tools/screenshots.ts [outDir]` (default .cache/screenshots). The answers are nonsense
 * (random weights); the layout, the trajectory and the numbers are real.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { launchChromium, serveStatic } from '../browser/chromium.ts';
import { hotpotQuestions } from '../shared-data.ts';
import { buildSmallIndex } from './small-index.ts';
import { ensureTinyModel } from './make-tiny-gguf.mjs';

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
  const appDir = mkdtempSync(join(tmpdir(), 'sdg-shots-app-'));
  const indexDir = mkdtempSync(join(tmpdir(), 'sdg-shots-index-'));
  const modelPath = ensureTinyModel();
  await build({ root: ROOT, logLevel: 'warn', build: { outDir: appDir, emptyOutDir: true, reportCompressedSize: false } });
  await buildSmallIndex(indexDir, 10);
  const questions = hotpotQuestions(10).map((q, i) => JSON.stringify({ id: `q${i}`, question: q.question_text, golden_answers: q.answers_objects.flatMap((a) => a.spans) }));
  writeFileSync(join(indexDir, 'questions.jsonl'), questions.join('\n'));
  const server = await serveStatic({ mounts: { '/': appDir, '/index/': indexDir, '/gguf/': dirname(modelPath) } });
  const browser = await launchChromium();
  mkdirSync(outDir, { recursive: true });
  try {
    for (const scheme of ['light', 'dark'] as const) {
      for (const { name, show } of PAGES) {
        const page = await browser.context.newPage();
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width: 1280, height: 900 });
        await page.goto(server.url);
        await page.fill('input[name=gguf-url]', `${server.url}gguf/${basename(modelPath)}`);
        await page.click('text=Load model');
        await page.waitForSelector('[data-testid=engine-status][data-status=ready]', { timeout: 60_000 });
        await page.waitForSelector('[data-testid=corpus-status][data-status=ready]');
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
    await server.close();
    for (const dir of [appDir, indexDir]) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
