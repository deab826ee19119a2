/**
 * The page's narrowed connect policy in Debian's Chromium: connections go only to our origin, local
 * servers, the default model hosts and the hosts the user configured; a model on a new host is offered
 * "Allow … and reload", after which the policy names it, the form has kept its settings and the model
 * loads. Off-machine hosts are served by Playwright routes, so nothing leaves the machine; a route only
 * answers what the page's policy let through.
 */
import { readFileSync } from 'node:fs';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cspViolations, launchWatchedChromium, loadTinyModel, openPanel, startAppFixture, waitForStatus, type AppFixture, type WatchedChromium } from './app-fixture.ts';

const NEW_HOST = 'https://models.example.org';
const RETRIEVAL_HOST = 'https://retrieval.example.org';

let app: AppFixture;
let browser: WatchedChromium;

beforeAll(async () => {
  app = await startAppFixture({ questions: 2 });
  browser = await launchWatchedChromium();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Answers like a CORS-enabled file host would. */
const fulfil = (route: Route, body: Buffer | string) => route.fulfill({ status: 200, body, headers: { 'access-control-allow-origin': '*', 'content-type': 'application/octet-stream' } });

/** The policies on the page: the static one and the connect-src the page added at start-up. */
async function policies(page: Page): Promise<string[]> {
  return page.$$eval('meta[http-equiv="Content-Security-Policy"]', (metas) => metas.map((m) => m.getAttribute('content') ?? ''));
}

async function fetchResult(page: Page, url: string): Promise<string> {
  return page.evaluate((target) => fetch(target).then((r) => r.text(), () => 'refused'), url);
}

describe('the connect policy narrows to the configured model hosts', () => {
  it('blocks unconfigured hosts, allows the hub, and lets the user allow a new model host with a reload', async () => {
    const page = await browser.context.newPage();
    // Stand-ins for the hub, the CDN host it redirects GGUF downloads to, a stray host and the new model host.
    // (A route cannot answer a cross-origin fetch with a redirect, so the two hub hosts are asked separately.)
    await page.route('https://huggingface.co/**', (route) => fulfil(route, 'hub file'));
    await page.route('https://cas-bridge.xethub.hf.co/**', (route) => fulfil(route, 'cdn file'));
    await page.route('https://elsewhere.example.net/**', (route) => fulfil(route, 'leaked'));
    await page.route(`${NEW_HOST}/**`, (route) => fulfil(route, readFileSync(app.modelPath)));
    await page.goto(app.server.url);
    await waitForStatus(page, 'index', 'ready');

    const [outer = '', narrowed = ''] = await policies(page);
    expect(outer).toContain('connect-src');
    expect(outer).toContain(' https: ');
    expect(narrowed).toMatch(/^connect-src 'self' /);
    expect(narrowed).not.toMatch(/ https: /);
    expect(narrowed.split(' ')).toEqual(expect.arrayContaining(['https://huggingface.co', 'https://*.hf.co']));
    expect(narrowed).not.toContain(NEW_HOST);

    // The hub and the CDN host it redirects to are reachable; any other https host is not.
    expect(await fetchResult(page, 'https://huggingface.co/Qwen/x/resolve/main/x.gguf')).toBe('hub file');
    expect(await fetchResult(page, 'https://cas-bridge.xethub.hf.co/xet-bridge-us/file')).toBe('cdn file');
    expect(await fetchResult(page, 'https://elsewhere.example.net/exfiltrate')).toBe('refused');
    await page.waitForFunction(() => ((window as { __csp?: string[] }).__csp ?? []).length >= 1);
    expect(await cspViolations(page)).toEqual(['connect-src https://elsewhere.example.net/exfiltrate']);

    // A model on a host the policy does not name: nothing is fetched, the page offers to allow it.
    const modelUrl = `${NEW_HOST}/qwen/tiny-qwen3.gguf`;
    await openPanel(page, 'model');
    await page.selectOption('select[name=engine]', 'wllama');
    await page.fill('input[name=gguf-url]', modelUrl);
    await page.click('text=Load model');
    const allow = page.locator(`[data-testid=host-notice] button:text-is("Allow ${NEW_HOST} and reload")`);
    await allow.waitFor();
    expect(await page.getAttribute('[data-testid=engine-status]', 'data-status')).toBe('idle');
    expect(browser.requests.urls.filter((url) => url.startsWith(NEW_HOST))).toEqual([]);

    await Promise.all([page.waitForEvent('load'), allow.click()]);
    // After the reload the policy names the host, the form kept the URL, and the model loads from there.
    expect((await policies(page))[1]?.split(' ')).toContain(NEW_HOST);
    expect(await page.inputValue('input[name=gguf-url]')).toBe(modelUrl);
    expect(await page.inputValue('select[name=engine]')).toBe('wllama');
    await waitForStatus(page, 'engine', 'ready');
    expect(await page.textContent('[data-testid=engine-status]')).toMatch(/^Ready: wllama · tiny-qwen3\.gguf · CPU/);
    expect(await page.locator('[data-testid=host-notice]').count()).toBe(0);
    expect(browser.requests.urls.some((url) => url.startsWith(`${NEW_HOST}/qwen/`))).toBe(true);
    expect(await cspViolations(page)).toEqual([]);
    // Only the stand-in hosts were asked for; the stray host never was.
    expect(browser.requests.offMachine().filter((url) => !/^https:\/\/(huggingface\.co|cas-bridge\.xethub\.hf\.co|models\.example\.org)\//.test(url))).toEqual([]);
    await page.close();
  });

  it('lets the user search a retrieval server on a new host: Allow and reload, then Ask and Benchmark search it', async () => {
    const page = await browser.context.newPage();
    const cors = { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'content-type', 'access-control-allow-methods': 'POST' };
    const asked: unknown[] = [];
    await page.route(`${RETRIEVAL_HOST}/**`, (route) => {
      if (route.request().method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors });
      asked.push(route.request().postDataJSON());
      return route.fulfill({ status: 200, headers: { ...cors, 'content-type': 'application/json' }, body: JSON.stringify({ result: [[{ document: { id: 'r1', contents: '"Remote Title"\nfrom the server' }, score: 1 }]] }) });
    });
    await page.goto(app.server.url);
    await waitForStatus(page, 'index', 'ready');
    await openPanel(page, 'index');
    await page.check('input[name=index-source][value=server]');
    await page.fill('input[name=retrieval-server]', RETRIEVAL_HOST);
    await page.click('button:text-is("Connect")');
    const allow = page.locator(`[data-testid=retrieval-server-blocked] button:text-is("Allow ${RETRIEVAL_HOST} and reload")`);
    await allow.waitFor();
    expect(asked).toEqual([]);

    await Promise.all([page.waitForEvent('load'), allow.click()]);
    // After the reload the policy names the server, and the page connects to it by itself.
    expect((await policies(page))[1]?.split(' ')).toContain(RETRIEVAL_HOST);
    await waitForStatus(page, 'index', 'ready');
    expect(await page.textContent('[data-testid=index-chip]')).toContain(`${RETRIEVAL_HOST}/retrieve · retrieval server`);
    await loadTinyModel(page, app);
    await page.fill('textarea[name=question]', 'Who wrote it?');
    await page.click('button:text-is("Ask")');
    await page.waitForSelector('[data-kind=end]', { timeout: 120_000 });
    expect(await page.locator('[data-kind=passages] summary').first().textContent()).toMatch(/^1 passage · \d+ ms$/);
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(asked.at(-1)).toEqual({ queries: [expect.any(String)], topk: 3, return_scores: true });

    // A benchmark run on it names the server, not a retrieval mode, in its row and its exports.
    await page.click('nav >> text=Benchmark');
    await page.waitForSelector('[data-testid=dataset-status]:has-text("2 questions")');
    await page.fill('input[name=bench-count]', '1');
    await page.click('button:text-is("Start")');
    await page.waitForSelector('[data-testid=bench-runs] tr[data-status=done]', { timeout: 120_000 });
    expect(await page.textContent('[data-testid=bench-runs] [data-field=retrieval]')).toBe(`${RETRIEVAL_HOST}/retrieve`);
    const download = page.waitForEvent('download');
    await page.click('[data-testid=bench-runs] button:text-is("JSON")');
    expect((await download).suggestedFilename()).toMatch(/^sdg-always-search-server-retrieval\.example\.org-[\d-]+\.json$/);
    const json = JSON.parse(readFileSync((await (await download).path()) ?? '', 'utf8')) as { settings: object };
    expect(json.settings).toMatchObject({ retrievalServer: `${RETRIEVAL_HOST}/retrieve` });
    expect(await cspViolations(page)).toEqual([]);
    await page.evaluate(() => localStorage.removeItem('sdg.retrieval-server.v1'));
    await page.close();
  });
});
