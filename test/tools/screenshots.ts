/**
 * `npm run screenshots`: PNGs of every page at a phone's and a desktop's width, in light and dark, into
 * .cache/screenshots/ (and the README's few into docs/screenshots/). The built app and the demo index are
 * real; the model is a scripted stand-in (a two-hop search, then the gold answer, at a paced speed) so the
 * pages show a readable trace: the screenshots show the app, not a model's quality.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { openPanel, startAppFixture, startedUp } from '../browser/app-fixture.ts';
import { launchChromium } from '../browser/chromium.ts';
import { hotpotQuestions } from '../shared-data.ts';
import { startScriptedOpenAi, type ChatMessage } from './scripted-openai.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(ROOT, '.cache/screenshots');
const README_DIR = join(ROOT, 'docs/screenshots');
const README_SHOTS = ['ask-1400-light', 'compare-1400-dark', 'ask-390-dark'];
const WIDTHS = [1400, 390];
const SCHEMES = ['light', 'dark'] as const;

/** The first sample question, answered as a careful two-hop search agent would. */
function scriptedAgent(): (messages: readonly ChatMessage[]) => string {
  const [first] = hotpotQuestions(1);
  if (!first) throw new Error('no shared questions');
  const titles = first.contexts.filter((c) => c.is_supporting).map((c) => c.title);
  const answer = first.answers_objects[0]?.spans[0] ?? '';
  return (messages) => {
    const system = messages[0]?.content ?? '';
    if (!system.includes('<search>')) return `<think>I think I remember this.</think><answer>${titles[0] ?? 'unknown'}</answer>`;
    const searched = messages.filter((m) => m.content.startsWith('<information>')).length;
    const next = titles[searched];
    if (next) return `<think>I need to know about ${next} first.</think><search>${next}</search>`;
    return `<think>Both pages agree; the answer is ${answer}.</think><answer>${answer}</answer>`;
  };
}

async function capture(scheme: (typeof SCHEMES)[number], appUrl: string, baseUrl: string): Promise<string[]> {
  const browser = await launchChromium({ colorScheme: scheme });
  const written: string[] = [];
  const save = async (page: Page, name: string) => {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      // The sticky header belongs at the top of a full-page shot, wherever the last answer scrolled to.
      await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => done(scrollTo(0, 0)))));
      const file = `${name}-${width}-${scheme}`;
      await page.screenshot({ path: join(OUT, `${file}.png`), fullPage: true });
      written.push(file);
    }
  };
  try {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.goto(appUrl);
    await page.waitForSelector('[data-testid=index-chip][data-status=ready]');
    await startedUp(page);
    await save(page, 'first-visit');
    await page.selectOption('select[name=engine]', 'openai');
    await page.fill('input[name=base-url]', baseUrl);
    await page.fill('input[name=openai-model]', 'scripted-stand-in');
    await page.click('button:text-is("Load model")');
    await page.waitForSelector('[data-testid=engine-chip][data-status=ready]');

    await page.locator('[data-testid=sample-question]').first().click();
    await page.click('button:text-is("Ask")');
    await page.waitForSelector('[data-kind=end]', { timeout: 60_000 });
    await page.locator('[data-testid=citation]').first().click();
    await save(page, 'ask');

    await page.click('nav >> text=Compare');
    await page.locator('[data-testid=sample-question]').first().click();
    await page.click('button:text-is("Ask")');
    await page.waitForSelector('[data-testid=compare-column][data-policy=no-search][data-status=done]', { timeout: 60_000 });
    await save(page, 'compare');

    await page.click('nav >> text=Benchmark');
    await page.fill('input[name=bench-count]', '4');
    await page.click('button:text("Start")');
    await page.waitForSelector('[data-testid=bench-runs] tr[data-status=done]', { timeout: 120_000 });
    await save(page, 'benchmark');

    await page.click('nav >> text=Probe');
    await save(page, 'probe');

    await page.click('nav >> text=Ask');
    await openPanel(page, 'storage');
    await page.waitForSelector('[data-testid=storage-entries][data-status=ready]');
    await save(page, 'storage');
  } finally {
    await browser.close();
  }
  return written;
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  mkdirSync(README_DIR, { recursive: true });
  const app = await startAppFixture({ questions: 10 });
  const model = await startScriptedOpenAi(scriptedAgent(), { prefillMs: 120, decodeMs: 480 });
  try {
    const written = [];
    for (const scheme of SCHEMES) written.push(...(await capture(scheme, app.server.url, model.baseUrl)));
    for (const name of README_SHOTS) copyFileSync(join(OUT, `${name}.png`), join(README_DIR, `${name}.png`));
    console.info(`${written.length} screenshots in ${OUT}; ${README_SHOTS.length} of them copied to ${README_DIR}`);
  } finally {
    await model.close();
    await app.close();
  }
}

await main();
