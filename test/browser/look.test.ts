/**
 * How the app looks to everyone: every page, light and dark, at a phone's width (390 px) and a desktop's
 * (1400 px), with a long unbroken answer on screen. axe-core finds no serious or critical accessibility
 * violation, and no page ever scrolls sideways. A scripted stand-in for the model gives the pages a known
 * answer (this checks the page around a model, never a model). Reduced motion: a colour caught mid-transition
 * would make the contrast check depend on timing.
 */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPanel, startAppFixture, startedUp, waitForStatus, type AppFixture } from './app-fixture.ts';
import { launchChromium, type LaunchedChromium } from './chromium.ts';
import { hasSearched, startScriptedOpenAi, type ScriptedServer } from '../tools/scripted-openai.ts';

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** One token a small model may well emit: 300 characters with no place to break. */
const LONG_ANSWER = `Pneumono${'ultramicroscopicsilicovolcano'.repeat(10)}coniosis`;
const WIDTHS = [390, 1400];

let app: AppFixture;
let model: ScriptedServer;

beforeAll(async () => {
  app = await startAppFixture({ questions: 4 });
  model = await startScriptedOpenAi((messages) => (hasSearched(messages) || !messages[0]?.content.includes('<search>') ? `<think>Found it.</think><answer>${LONG_ANSWER}</answer>` : '<search>Ada Lovelace mother</search>'));
});

afterAll(async () => {
  await model?.close();
  await app?.close();
});

interface Violation {
  id: string;
  impact: string | null;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** axe-core's serious and critical findings on the page as it is now. */
async function seriousViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE_PATH });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (context: Document) => Promise<{ violations: Violation[] }> } }).axe;
    return (await axe.run(document)).violations;
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => `${n.target.join(' ')} (${n.failureSummary ?? ''})`).join(', ')}`);
}

/** How far the page scrolls sideways, and the outermost elements that stick out past its right edge. */
const sidewaysScroll = (page: Page) =>
  page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const out = Array.from(document.querySelectorAll('body *')).filter((e) => e.getBoundingClientRect().right > width + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > width + 1));
    const name = (e: Element) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ''}${Array.from(e.classList).filter((c) => !c.startsWith('svelte-')).map((c) => `.${c}`).join('')}`;
    return { by: document.documentElement.scrollWidth - width, culprits: out.slice(0, 3).map(name) };
  });

/** Checks the current view at both widths. */
async function checkView(page: Page, view: string, problems: string[]): Promise<void> {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    // Charts resize a frame or more after the window does: the page gets up to a second to settle.
    let overflow = await sidewaysScroll(page);
    for (let tries = 0; overflow.by > 0 && tries < 10; tries++) {
      await page.waitForTimeout(100);
      overflow = await sidewaysScroll(page);
    }
    if (overflow.by > 0) problems.push(`${view} at ${width} px scrolls sideways by ${overflow.by} px (${overflow.culprits.join(', ')})`);
    for (const violation of await seriousViolations(page)) problems.push(`${view} at ${width} px: ${violation}`);
  }
}

async function loadScriptedModel(page: Page): Promise<void> {
  await openPanel(page, 'model');
  await page.selectOption('select[name=engine]', 'openai');
  await page.fill('input[name=base-url]', model.baseUrl);
  await page.fill('input[name=openai-model]', 'scripted');
  await page.click('button:text-is("Load model")');
  await waitForStatus(page, 'engine', 'ready');
  await waitForStatus(page, 'index', 'ready');
}

describe('the look of every page', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`has no serious accessibility violation and no sideways scroll, ${scheme}`, async () => {
      const browser: LaunchedChromium = await launchChromium({ colorScheme: scheme, bypassCSP: true, reducedMotion: true });
      const problems: string[] = [];
      try {
        const page = await browser.context.newPage();
        await page.goto(app.server.url);
        await waitForStatus(page, 'index', 'ready');
        await startedUp(page);
        expect(await page.isVisible('#panel-model')).toBe(true);
        await checkView(page, 'first visit (model panel)', problems);
        await loadScriptedModel(page);

        await page.click('button:text-is("Ask")');
        await page.waitForSelector('[data-kind=end]');
        expect(await page.textContent('[data-testid=answer]')).toContain(LONG_ANSWER);
        await page.locator('[data-kind=passages] summary').first().click();
        await page.locator('[data-kind=thought] summary').first().click();
        await checkView(page, 'Ask with an answer', problems);
        for (const panel of ['index', 'settings', 'storage'] as const) {
          await openPanel(page, panel);
          await checkView(page, `${panel} panel`, problems);
        }

        await page.click('nav >> text=Compare');
        await page.click('button:text-is("Ask")');
        await page.waitForSelector('[data-testid=compare-column][data-policy=no-search][data-status=done]');
        expect(await page.locator('[data-testid=time-chart] [data-testid=time-row]').count()).toBe(2);
        await checkView(page, 'Compare', problems);

        await page.click('nav >> text=Benchmark');
        await page.fill('input[name=bench-count]', '2');
        await page.click('button:text("Start")');
        await page.waitForSelector('[data-testid=bench-runs] tr[data-status=done]');
        await checkView(page, 'Benchmark', problems);

        await page.click('nav >> text=Probe');
        await checkView(page, 'Probe', problems);
      } finally {
        await browser.close();
      }
      expect(problems).toEqual([]);
    });
  }
});
