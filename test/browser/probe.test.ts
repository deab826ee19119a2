/**
 * The probe page in Debian's Chromium with the real wllama engine (tiny random-weight Qwen3, CPU): a small
 * calibration run (self-answer attempts with log-probabilities, always-search runs over a real index),
 * the probe trained in the page, both charts drawn, and every number in the DOM the one the calibration
 * code computes from the per-question rows the page shows. A reload keeps it all.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reliability, thresholdTable, type CalibrationRow } from '../../src/core/probe/calibration.ts';
import { cspViolations, launchWatchedChromium, loadTinyModel, startAppFixture, type AppFixture, type WatchedChromium } from './app-fixture.ts';

const CALIBRATION_QUESTIONS = 5;
const HOSTILE_QUESTION = '<img src=x onerror="window.__pwned=1">Who wrote <b>Hamlet</b>?';

let app: AppFixture;
let browser: WatchedChromium;

beforeAll(async () => {
  app = await startAppFixture({
    questions: 6,
    // Lexical only: the probe page needs an index to search, not vectors.
    embedder: { kind: 'none' },
    // One question carries HTML: the page must show it as text.
    editQuestions: (questions) => questions.map((q, i) => (i === 1 ? { id: 'q1', question: HOSTILE_QUESTION, golden_answers: ['<script>window.__pwned=2</script>William Shakespeare'] } : q)),
  });
  browser = await launchWatchedChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const loadModelAndIndex = (page: Page) => loadTinyModel(page, app);

/** The per-question rows as the page renders them (full precision lives in data attributes). */
async function renderedRows(page: Page): Promise<CalibrationRow[]> {
  return page.$$eval('[data-testid=probe-rows] tbody tr', (trs) =>
    trs.map((tr) => {
      const n = (name: string) => Number((tr as HTMLElement).dataset[name]);
      return { confidence: n('confidence'), selfF1: n('selfF1'), searchF1: n('searchF1'), searches: n('searches'), selfEm: n('selfEm'), searchEm: n('searchEm') };
    }),
  );
}

const pct = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? (100 * x).toFixed(1) : '–');
const num = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '–');

/** The ECE and the threshold table in the DOM equal the ones computed here from the rendered rows. */
async function expectComputedNumbers(page: Page, rows: CalibrationRow[]): Promise<void> {
  const labelThreshold = Number(await page.getAttribute('[data-testid=probe-results]', 'data-label-threshold'));
  expect(labelThreshold).toBe(0.5);
  expect(await page.textContent('[data-testid=probe-ece]')).toBe(num(reliability(rows, labelThreshold).ece, 3));
  const threshold = Number(await page.inputValue('input[name=probe-threshold]'));
  expect(await page.textContent('[data-testid=probe-threshold-value]')).toBe(threshold.toFixed(2));
  const expected = thresholdTable(rows, threshold).map((o) => [o.label, `${o.selfAnswered} / ${o.questions}`, pct(o.f1), pct(o.em), num(o.searchesPerQuestion, 2), pct(o.selfAnsweredF1), pct(o.searchedF1)]);
  const shown = await page.$$eval('[data-testid=probe-table] tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent?.trim() ?? '')));
  expect(shown).toEqual(expected);
  expect(shown.map((r) => r[0])).toEqual(['always search', 'top 1%', 'top 5%', 'top 10%', 'top 20%', `confidence ≥ ${threshold.toFixed(2)}`]);
}

/** Chart.js drew on the canvas: it has a size and pixels that are not all transparent. */
async function drawnPixels(page: Page, testId: string): Promise<number> {
  return page.$eval(`canvas[data-testid=${testId}]`, (canvas) => {
    const c = canvas as HTMLCanvasElement;
    if (!c.width || !c.height) return 0;
    const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
    let painted = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
    return painted;
  });
}

describe('the probe page (tiny model, CPU)', () => {
  it('calibrates on a few questions, trains in the page, draws both charts and shows the computed numbers', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${app.server.url}#/probe`);
    await loadModelAndIndex(page);
    await page.waitForSelector(`[data-testid=probe-dataset-status]:has-text("HotpotQA demo questions: 6 questions")`);
    await page.fill('input[name=probe-count]', String(CALIBRATION_QUESTIONS));
    await page.click('button:text("Run calibration")');
    await page.waitForSelector('[data-testid=probe-progress]');
    await page.waitForSelector('[data-testid=probe-ece]', { timeout: 120_000 });
    expect(await page.locator('[data-testid=probe-error]').count()).toBe(0);

    const rows = await renderedRows(page);
    expect(rows).toHaveLength(CALIBRATION_QUESTIONS);
    for (const row of rows) {
      expect(row.confidence).toBeGreaterThanOrEqual(0);
      expect(row.confidence).toBeLessThanOrEqual(1);
      // Every always-search run searched before it could answer.
      expect(row.searches).toBeGreaterThanOrEqual(1);
    }
    expect(await page.textContent('[data-testid=probe-status]')).toMatch(new RegExp(`${CALIBRATION_QUESTIONS} of ${CALIBRATION_QUESTIONS} questions with wllama · tiny-qwen3\\.gguf · CPU; \\d self-answers? right .*Probe trained on ${CALIBRATION_QUESTIONS} questions\\.`));
    expect(await drawnPixels(page, 'probe-histogram')).toBeGreaterThan(0);
    expect(await drawnPixels(page, 'probe-reliability')).toBeGreaterThan(0);
    await expectComputedNumbers(page, rows);
    expect(await page.textContent('[data-testid=probe-availability]')).toMatch(/Adaptive mode uses this probe/);

    // The slider is the threshold adaptive mode uses; at 0 every question is self-answered.
    await page.fill('input[name=probe-threshold]', '0');
    await page.waitForSelector('[data-testid=probe-threshold-value]:text-is("0.00")');
    await expectComputedNumbers(page, rows);
    expect(await page.textContent('[data-testid=probe-table] tr[data-row="5"] [data-field=self-answered]')).toBe(`${CALIBRATION_QUESTIONS} / ${CALIBRATION_QUESTIONS}`);

    // Untrusted text (questions, gold answers, model answers) is text, never markup.
    const hostileRow = page.locator('[data-testid=probe-rows] tr[data-id=q1] td');
    expect(await hostileRow.first().textContent()).toBe(HOSTILE_QUESTION);
    expect(await page.locator('main img, main b, main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();

    // A reload keeps the rows, the trained probe and the threshold; with no model loaded it says so.
    await page.reload();
    await page.waitForSelector('[data-testid=probe-ece]');
    expect(await renderedRows(page)).toEqual(rows);
    expect(await page.inputValue('input[name=probe-threshold]')).toBe('0');
    await expectComputedNumbers(page, rows);
    expect(await page.textContent('[data-testid=probe-availability]')).toMatch(/cannot use the probe now: load the model and the index first/);

    // Compare runs adaptive with this probe between always-search and no-search; at threshold 0 it self-answers.
    await loadModelAndIndex(page);
    await page.click('nav >> text=Compare');
    expect(await page.textContent('[data-testid=adaptive-note]')).toMatch(/^Adaptive: self-answers at probe confidence ≥ 0\.00/);
    await page.click('button:text-is("Ask")');
    await page.waitForSelector('[data-testid=compare-column][data-policy=no-search][data-status=done]', { timeout: 180_000 });
    const adaptiveColumn = page.locator('[data-testid=compare-column][data-policy=adaptive]');
    expect(await adaptiveColumn.getAttribute('data-status')).toBe('done');
    expect(await adaptiveColumn.locator('.plan').textContent()).toMatch(/^Policy adaptive: probe confidence 0\.\d\d ≥ threshold 0\.00, so answer from memory$/);
    expect(await adaptiveColumn.locator('[data-kind=search]').count()).toBe(0);
    expect(await page.locator('[data-testid=compare-column][data-policy=always-search] [data-kind=search]').count()).toBeGreaterThanOrEqual(1);

    // A new run cancels at once and can be resumed.
    await page.click('nav >> text=Probe');
    await page.click('button:text("Run calibration")');
    await page.waitForSelector('[data-testid=probe-progress]');
    await page.click('button:text("Cancel")');
    await page.waitForSelector('[data-testid=probe-progress]', { state: 'detached', timeout: 10_000 });
    expect(await page.isDisabled('button:text("Cancel")')).toBe(true);
    await page.waitForSelector('button:text("Resume")');
    expect(await page.locator('[data-testid=probe-error]').count()).toBe(0);

    expect(browser.requests.offMachine()).toEqual([]);
    expect(browser.pageErrors).toEqual([]);
    // Training (tfjs) and the charts (chart.js) run under the page's Content-Security-Policy.
    expect(await cspViolations(page)).toEqual([]);
    await page.close();
  });
});
