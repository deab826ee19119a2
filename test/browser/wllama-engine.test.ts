/**
 * The real wllama engine (src/engines/wllama.ts) in Debian's Chromium, on the CPU, running the tiny
 * random-weight Qwen3 GGUF: the text is nonsense, but tokenizer, chat template, grammar, stop strings,
 * streaming, abort and the network boundary are all real.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceGrammar } from '../../src/core/agent/grammar.ts';
import { readTurn } from '../../src/core/agent/turn.ts';
import { launchChromium, RequestLog, serveStatic, type LaunchedChromium, type StaticServer, harnessCaller } from './chromium.ts';
import type { Harness, HarnessGeneration, HarnessRequest } from './fixtures/wllama-page/main.ts';
import { ensureTinyModel } from '../tools/make-tiny-gguf.mjs';

const FIXTURE = fileURLToPath(new URL('./fixtures/wllama-page/', import.meta.url));
const SEARCH_GRAMMAR = 'root ::= "<search>" [a-z ]{1,20} "</search>"';
const SYSTEM = { role: 'system', content: 'Answer with a search action.' } as const;
const MESSAGES: HarnessRequest['messages'] = [SYSTEM, { role: 'user', content: 'Who wrote Hamlet?' }];

const call = harnessCaller<Harness>();

const generate = (page: Page, request: HarnessRequest): Promise<HarnessGeneration> => call(page, 'generate', request);

/** The harness page, built once by Vite (as the app is: wasm emitted as an asset), and the tiny model. */
let outDir = '';
let modelPath = '';
let server: StaticServer;

beforeAll(async () => {
  modelPath = ensureTinyModel();
  outDir = mkdtempSync(join(tmpdir(), 'sdg-wllama-page-'));
  await build({
    configFile: false,
    root: FIXTURE,
    base: './',
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  });
  // Files that are not models: an HTML page (a Hugging Face /blob/ link serves one) and a cut-off GGUF.
  const badDir = join(outDir, 'bad');
  mkdirSync(badDir);
  writeFileSync(join(badDir, 'page.gguf'), '<!doctype html><title>not a model</title>');
  writeFileSync(join(badDir, 'truncated.gguf'), readFileSync(modelPath).subarray(0, 3_000_000));
  server = await serveStatic({ mounts: { '/': outDir, '/models/': dirname(modelPath) } });
});

afterAll(async () => {
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

async function openHarness(browser: LaunchedChromium): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => 'harness' in window);
  return page;
}

const tinyModelUrl = () => `${server.url}models/${basename(modelPath)}`;

describe('wllama engine in Chromium (tiny Qwen3 GGUF, CPU)', () => {
  let browser: LaunchedChromium;
  let requests: RequestLog;
  let page: Page;
  let loaded: Awaited<ReturnType<Harness['load']>>;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    requests = new RequestLog(browser.context);
    browser.context.on('weberror', (error) => pageErrors.push(error.error().message));
    page = await openHarness(browser);
    loaded = await call(page, 'load', { modelUrl: tinyModelUrl(), device: 'cpu', threads: 1, contextSize: 2048, seed: 42 });
    console.info(`tiny model loaded in ${(loaded.ms / 1000).toFixed(2)} s (${loaded.label})`);
  });

  afterAll(async () => {
    if (page) await call(page, 'unload', undefined).catch(() => {});
    await browser?.close();
  });

  it('loads the GGUF on the CPU and reports download progress', () => {
    expect(loaded.label).toBe('wllama · tiny-qwen3.gguf · CPU');
    const size = statSync(modelPath).size;
    const download = loaded.progress.filter((p) => p.loadedBytes !== undefined);
    expect(download.at(-1)).toMatchObject({ loadedBytes: size, totalBytes: size, fraction: 1 });
    // The bytes travel as numbers, which the form shows once; the text does not repeat them.
    expect(download.map((p) => p.text)).toEqual(download.map(() => 'downloading tiny-qwen3.gguf'));
    expect(loaded.progress.some((p) => p.text.startsWith('loading tiny-qwen3.gguf into memory'))).toBe(true);
    expect(loaded.progress.at(-1)).toEqual({ text: 'model ready', fraction: 1 });
  });

  it('rejects malformed model URLs with a readable EngineError', async () => {
    expect(await call(page, 'urlError', 'models/tiny-qwen3.gguf')).toBeNull();
    expect(await call(page, 'urlError', 'https://example.org/a/model.gguf?download=1')).toBeNull();
    expect(await call(page, 'urlError', 'http://[::1]:8080/m.gguf')).toBeNull();
    // Chromium's own parser accepts "exa mple.org" (as "exa%20mple.org"): the engine must not.
    for (const bad of ['', 'http://', 'ftp://example.org/model.gguf', 'https://example.org/model.bin', 'https://exa mple.org/x.gguf']) {
      expect(await call(page, 'urlError', bad)).toMatch(/^EngineError: /);
    }
    await expect(call(page, 'load', { modelUrl: 'https://exa mple.org/x.gguf', device: 'cpu' })).rejects.toThrow(/no valid host name/);
  });

  it('a missing, non-GGUF or truncated model file fails the load with a readable error', async () => {
    const load = (path: string) => call(page, 'load', { modelUrl: `${server.url}${path}`, device: 'cpu' });
    await expect(load('models/missing.gguf')).rejects.toThrow(/Could not download .*missing\.gguf.*404/);
    await expect(load('bad/page.gguf')).rejects.toThrow('page.gguf: the server sent a web page, not a GGUF file (wrong URL?).');
    // wllama itself reports success here and the first generation would crash the wasm.
    await expect(load('bad/truncated.gguf')).rejects.toThrow(/could not load truncated\.gguf/);
  });

  it('the check before a load reads a file\'s first bytes only, and passes a stored model without the network', async () => {
    const check = (path: string) => call(page, 'check', `${server.url}${path}`);
    const before = requests.urls.length;
    expect(await check('models/missing.gguf')).toMatch(/^Could not download .*missing\.gguf: HTTP 404\. Check the URL\.$/);
    expect(await check('bad/page.gguf')).toBe('page.gguf: the server sent a web page, not a GGUF file (wrong URL?).');
    expect(await check('bad/truncated.gguf')).toBeNull(); // a GGUF by its first bytes: only llama.cpp can tell more
    expect(requests.urls.slice(before)).toHaveLength(3);
    // The tiny model is stored since the first load: no request at all.
    expect(await check(`models/${basename(modelPath)}`)).toBeNull();
    expect(requests.urls).toHaveLength(before + 3);
  });

  it('a GBNF grammar forces a well-formed search action, and the deltas add up to the text', async () => {
    const { result, deltas } = await generate(page, { messages: MESSAGES, maxTokens: 64, temperature: 1, grammar: SEARCH_GRAMMAR });
    expect(result.text).toMatch(/^<search>[a-z ]{1,20}<\/search>$/);
    expect(result.finishReason).toBe('stop');
    expect(deltas.length).toBeGreaterThan(2);
    expect(deltas.join('')).toBe(result.text);
    expect(result.usage.promptTokens).toBeGreaterThan(10);
    expect(result.usage.completionTokens).toBeGreaterThan(2);
  });

  it("the agent's own trace grammar and stop strings yield a search the turn reader accepts", async () => {
    const { result, deltas } = await generate(page, {
      messages: MESSAGES,
      maxTokens: 400,
      temperature: 1,
      grammar: traceGrammar('search'),
      stop: ['</search>', '</answer>'],
      thinking: false,
    });
    expect(deltas.join('')).toBe(result.text);
    expect(result.text).not.toContain('</search>');
    expect(result.finishReason).toBe('stop');
    expect(readTurn(result.text, result.finishReason).action?.kind).toBe('search');
  });

  it('stops before a stop string and streams nothing past it', async () => {
    const grammar = 'root ::= "<search>" [a-z ]{1,20} "</search>" " and then more text"';
    const { result, deltas } = await generate(page, { messages: MESSAGES, maxTokens: 64, temperature: 1, grammar, stop: ['</search>'] });
    expect(result.text).toMatch(/^<search>[a-z ]{1,20}$/);
    expect(result.finishReason).toBe('stop');
    expect(deltas.join('')).toBe(result.text);
  });

  it('maxTokens ends the generation with finishReason "length"', async () => {
    const { result } = await generate(page, { messages: MESSAGES, maxTokens: 5, temperature: 1 });
    expect(result.finishReason).toBe('length');
    expect(result.usage.completionTokens).toBe(5);
  });

  it('an abort stops the generation at once and leaves the engine usable', async () => {
    const aborted = await generate(page, { messages: MESSAGES, maxTokens: 1500, temperature: 1, abortAfterDeltas: 3 });
    expect(aborted.result.finishReason).toBe('abort');
    expect(aborted.deltas.length).toBeLessThanOrEqual(5);
    expect(aborted.result.text).toBe(aborted.deltas.join(''));
    const after = await generate(page, { messages: MESSAGES, maxTokens: 8, grammar: SEARCH_GRAMMAR });
    expect(after.result.text).toMatch(/^<search>/);
  });

  it('`thinking: false` reaches the template: it closes an empty think block in the prompt', async () => {
    const on = await generate(page, { messages: MESSAGES, maxTokens: 1, thinking: true });
    const off = await generate(page, { messages: MESSAGES, maxTokens: 1, thinking: false });
    // `<think>`, "\n\n", `</think>`, "\n\n": four tokens.
    expect(off.result.usage.promptTokens - on.result.usage.promptTokens).toBe(4);
    // ...and none of it is echoed into the model's text.
    expect(off.result.text).not.toContain('<think>');
  });

  it('reports per-token logprobs with alternatives', async () => {
    const { result, deltas } = await generate(page, { messages: MESSAGES, maxTokens: 6, temperature: 0, grammar: SEARCH_GRAMMAR, logprobs: true, topLogprobs: 2 });
    expect(deltas.join('')).toBe(result.text);
    expect(result.logprobs).toHaveLength(result.usage.completionTokens);
    for (const entry of result.logprobs ?? []) {
      expect(entry.logprob).toBeLessThanOrEqual(0);
      expect(entry.top).toHaveLength(2);
    }
    expect(result.logprobs?.map((e) => e.token).join('')).toBe(result.text);
  });

  it('falls back to plain text when wllama cannot serialise a logprobs entry', async () => {
    // With seed 42 these prompts sample a byte-level token that is not valid UTF-8 on its own (or have one
    // among the top 5); wllama 3.8.1's JSON encoder then throws and the request fails.
    const fallbacks: boolean[] = [];
    for (const n of [0, 7, 10]) {
      const messages: HarnessRequest['messages'] = [SYSTEM, { role: 'user', content: `Question number ${n}?` }];
      const { result, deltas } = await generate(page, { messages, maxTokens: 30, temperature: 1, logprobs: true, topLogprobs: 5 });
      expect(result.text.length).toBeGreaterThan(0);
      expect(deltas.join('')).toBe(result.text);
      fallbacks.push(result.logprobs === undefined);
    }
    expect(fallbacks).toContain(true);
  });

  it('measures decoding speed', async () => {
    const { result, ms } = await generate(page, { messages: MESSAGES, maxTokens: 200, temperature: 1 });
    const decodeMs = result.timings?.decodeMs ?? ms;
    const perSecond = result.usage.completionTokens / (decodeMs / 1000);
    console.info(`decoded ${result.usage.completionTokens} tokens in ${decodeMs.toFixed(0)} ms: ${perSecond.toFixed(0)} tokens/s`);
    expect(result.usage.completionTokens).toBeGreaterThan(100);
  });

  it('no request left 127.0.0.1, and the log saw the worker fetch the wasm', () => {
    expect(requests.offMachine()).toEqual([]);
    expect(requests.urls.some((url) => url.endsWith('.wasm'))).toBe(true);
    expect(requests.urls.some((url) => url.endsWith('/models/tiny-qwen3.gguf'))).toBe(true);
    expect(pageErrors).toEqual([]);
  });
});

describe('wllama engine device choice (Chromium with SwiftShader WebGPU)', () => {
  let browser: LaunchedChromium;
  let requests: RequestLog;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium({ webgpu: true });
    requests = new RequestLog(browser.context);
    page = await openHarness(browser);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('"auto" keeps a software (fallback) WebGPU adapter off and runs on the CPU', async () => {
    const { label } = await call(page, 'load', { modelUrl: tinyModelUrl(), device: 'auto' });
    expect(label).toMatch(/· CPU$/);
    await call(page, 'unload', undefined);
  });

  it('"webgpu" runs the model on WebGPU when asked', async () => {
    const { label } = await call(page, 'load', { modelUrl: tinyModelUrl(), device: 'webgpu' });
    expect(label).toMatch(/· WebGPU$/);
    const { result } = await generate(page, { messages: MESSAGES, maxTokens: 64, grammar: SEARCH_GRAMMAR });
    expect(result.text).toMatch(/^<search>[a-z ]{1,20}<\/search>$/);
    await call(page, 'unload', undefined);
    expect(requests.offMachine()).toEqual([]);
  });
});
