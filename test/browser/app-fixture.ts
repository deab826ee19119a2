/**
 * The built app as the browser tests (and the screenshot script) serve it: a production build, a small
 * index of the shared HotpotQA paragraphs with its demo questions, and the tiny random-weight GGUF, all
 * from one 127.0.0.1 server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import type { EmbedderChoice } from '../../index-builder/embedders.ts';
import { hotpotQuestions } from '../shared-data.ts';
import { buildSmallIndex } from '../tools/small-index.ts';
import { ensureTinyModel } from '../tools/make-tiny-gguf.mjs';
import { launchChromium, RequestLog, serveStatic, type LaunchedChromium, type StaticServer } from './chromium.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface AppFixtureOptions {
  /** How many shared questions' paragraphs the index holds; their questions become the demo questions. */
  questions: number;
  embedder?: EmbedderChoice;
  /** Replaces demo questions by position (e.g. a hostile one). */
  editQuestions?: (lines: DemoQuestion[]) => DemoQuestion[];
  /** More URL prefixes that serve the same index. */
  indexAliases?: string[];
  /** More folders to serve, by URL prefix. */
  mounts?: Record<string, string>;
  /** Fault injection, passed to the server (see serveStatic). */
  cutAfter?: (path: string) => number | undefined;
  /** Files to drop into the build (e.g. indexes.json). */
  files?: Record<string, string>;
}

export interface DemoQuestion {
  id: string;
  question: string;
  golden_answers: string[];
}

export interface AppFixture {
  server: StaticServer;
  appDir: string;
  indexDir: string;
  /** The tiny model on disk, and where the page finds it. */
  modelPath: string;
  modelUrl: string;
  close(): Promise<void>;
}

/** The first n shared questions in the benchmark shape the app reads. */
export function demoQuestions(n: number): DemoQuestion[] {
  return hotpotQuestions(n).map((q, i) => ({ id: `q${i}`, question: q.question_text, golden_answers: q.answers_objects.flatMap((a) => a.spans) }));
}

export async function startAppFixture(options: AppFixtureOptions): Promise<AppFixture> {
  const modelPath = ensureTinyModel();
  const appDir = mkdtempSync(join(tmpdir(), 'sdg-app-'));
  const indexDir = mkdtempSync(join(tmpdir(), 'sdg-index-'));
  await build({ root: ROOT, logLevel: 'warn', build: { outDir: appDir, emptyOutDir: true, reportCompressedSize: false } });
  await buildSmallIndex(indexDir, options.questions, undefined, options.embedder);
  const questions = (options.editQuestions ?? ((q) => q))(demoQuestions(options.questions));
  writeFileSync(join(indexDir, 'questions.jsonl'), questions.map((q) => JSON.stringify(q)).join('\n'));
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(appDir, name), text);
  const aliases = Object.fromEntries((options.indexAliases ?? []).map((prefix) => [prefix, indexDir]));
  const mounts = { '/': appDir, '/index/': indexDir, '/gguf/': dirname(modelPath), ...aliases, ...options.mounts };
  const server = await serveStatic({ mounts, ...(options.cutAfter && { cutAfter: options.cutAfter }) });
  return {
    server,
    appDir,
    indexDir,
    modelPath,
    modelUrl: `${server.url}gguf/${basename(modelPath)}`,
    /** Also after the test stopped the server itself. */
    async close() {
      await server.close();
      for (const dir of [appDir, indexDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The setup panels under the header, each opened by its chip. */
export type Panel = 'model' | 'index' | 'settings' | 'storage';

/** Opens a setup panel (a click on its header chip) unless it is open already. */
export async function openPanel(page: Page, panel: Panel): Promise<void> {
  // Until then the page may open the model panel itself, and a click would close it again.
  await startedUp(page);
  if (await page.isVisible(`#panel-${panel}`)) return;
  const chip = { model: 'engine-chip', index: 'index-chip', settings: 'settings-chip', storage: 'storage-chip' }[panel];
  await page.click(`[data-testid=${chip}]`);
  await page.waitForSelector(`#panel-${panel}`);
}

/** Waits until the model (or the index) has the status, whether or not its panel is open. */
export async function waitForStatus(page: Page, what: 'engine' | 'index', status: string, timeout = 60_000): Promise<void> {
  await page.waitForSelector(`[data-testid=${what}-chip][data-status=${status}]`, { timeout });
}

/** Waits until the page knows whether the model used last loads by itself (it does when it is stored). */
export async function startedUp(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=chips][data-startup=done]', { state: 'attached' });
}

/**
 * Loads the tiny model on wllama (CPU), unless the page loads it by itself (a profile that stores it),
 * and waits until the model and the demo index are ready.
 */
export async function loadTinyModel(page: Page, fixture: Pick<AppFixture, 'modelUrl'>): Promise<void> {
  await startedUp(page);
  const chip = page.locator('[data-testid=engine-chip]');
  if ((await chip.getAttribute('data-status')) === 'loading') await waitForStatus(page, 'engine', 'ready');
  if ((await chip.getAttribute('data-status')) === 'ready' && (await page.textContent('[data-testid=engine-status]'))?.includes(basename(fixture.modelUrl))) {
    await waitForStatus(page, 'index', 'ready');
    return;
  }
  await openPanel(page, 'model');
  await page.selectOption('select[name=engine]', 'wllama');
  await page.fill('input[name=gguf-url]', fixture.modelUrl);
  await page.click('text=Load model');
  await waitForStatus(page, 'engine', 'ready');
  await waitForStatus(page, 'index', 'ready');
}

/** Makes every page of the context record what its Content-Security-Policy blocked (see `cspViolations`). */
async function recordCspViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const seen: string[] = ((window as { __csp?: string[] }).__csp = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.effectiveDirective} ${e.blockedURI}`));
  });
}

/** What the page's CSP blocked so far, as "directive blocked-URI". */
export async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate(() => (window as { __csp?: string[] }).__csp)) ?? [];
}

/** How a bounded run may end (every end but an error or a cancel). */
export const BOUNDED_ENDS = ['answered', 'max-turns', 'max-total-tokens', 'repeated-query'];

export interface WatchedChromium extends LaunchedChromium {
  /** Every request of every page and worker, to prove nothing left 127.0.0.1. */
  requests: RequestLog;
  /** Uncaught errors of any page. */
  pageErrors: string[];
}

/** Chromium whose pages record their requests, uncaught errors and CSP violations. */
export async function launchWatchedChromium(): Promise<WatchedChromium> {
  const browser = await launchChromium();
  await recordCspViolations(browser.context);
  const pageErrors: string[] = [];
  browser.context.on('weberror', (error) => pageErrors.push(error.error().message));
  return { ...browser, requests: new RequestLog(browser.context), pageErrors };
}
