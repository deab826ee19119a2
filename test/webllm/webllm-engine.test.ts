/**
 * The app's own WebLLM engine (src/engines/webllm.ts, workers/llm.worker.ts) on a real WebLLM runtime in
 * Debian's Chromium, WebGPU on SwiftShader: WebLLM 0.2.79 (an npm alias, swapped in for this page only,
 * since no model library within reach links with the app's pinned version) with the prebuilt Qwen2-0.5B
 * library in ../shared/fixtures/webllm/ over random weights of its shapes (test/tools/make-webllm-model.mjs).
 * The text is nonsense; the runtime, tokenizer, chat template, KV cache, streaming, stop strings and
 * interrupts are real.
 *
 * Slow by nature (about 60 s to load, minutes a prefill, tens of seconds a token here): one engine is loaded
 * for all cases, every request is a few tokens, and the cases run in order, each building on the last.
 * `npm run test:webllm` runs it on its own; the figures of each request are printed.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/core/agent/agent.ts';
import type { ChatMessage } from '../../src/core/agent/engine.ts';
import { launchChromium, serveStatic, type LaunchedChromium, type StaticServer, harnessCaller } from '../browser/chromium.ts';
import { hotpotQuestions } from '../shared-data.ts';
import { buildSmallIndex } from '../tools/small-index.ts';
import { ensureWebLlmModel } from '../tools/make-webllm-model.mjs';
import { wasmKernel } from '../../vite/wasm-kernel.ts';
import type { Harness, HarnessGeneration, HarnessOptions, HarnessRequest, HarnessRun } from './fixtures/webllm-page/main.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/webllm-page/', import.meta.url));
const LIBRARY = fileURLToPath(new URL('../../../shared/fixtures/webllm/Qwen2-0.5B-q4f32_1-v0_2_48.wasm', import.meta.url));
const WEBLLM_RUNTIME = 'web-llm-0.2.79';
/** The smallest context the app's custom-model form accepts: a smaller KV cache to allocate and clear. */
const CONTEXT_WINDOW = 512;
const MODEL_ID = 'qwen2-random-q4f32_1';
/** A model folder with its configuration but none of its weight shards. */
const NO_WEIGHTS = 'qwen2-no-weights';

const call = harnessCaller<Harness>();

/** Each request's figures, printed as it ends: the closing note of the issue quotes them. */
function report(name: string, g: HarnessGeneration): HarnessGeneration {
  const { promptTokens, completionTokens } = g.result.usage;
  console.info(`${name}: ${promptTokens} prompt + ${completionTokens} completion tokens, ${(g.ms / 1000).toFixed(1)} s (prefill ${(g.result.timings.prefillMs / 1000).toFixed(1)} s), ${g.result.finishReason}, ${JSON.stringify(g.result.text)}`);
  return g;
}

const hasLibrary = existsSync(LIBRARY);

describe.skipIf(!hasLibrary)('the app’s WebLLM engine on a real WebLLM runtime (0.2.79, SwiftShader WebGPU)', () => {
  let outDir = '';
  let indexDir = '';
  let server: StaticServer;
  let browser: LaunchedChromium;
  let page: Page;
  let options: HarnessOptions;
  let loaded: Awaited<ReturnType<Harness['load']>>;
  const pageErrors: string[] = [];
  const generate = (name: string, request: HarnessRequest) => call(page, 'generate', request).then((g) => report(name, g));

  beforeAll(async () => {
    const modelDir = ensureWebLlmModel(LIBRARY, { contextWindow: CONTEXT_WINDOW });
    outDir = mkdtempSync(join(tmpdir(), 'sdg-webllm-page-'));
    indexDir = mkdtempSync(join(tmpdir(), 'sdg-webllm-index-'));
    await buildSmallIndex(indexDir, 3, undefined, { kind: 'none' });
    await build({
      configFile: false,
      root: FIXTURE,
      base: './',
      logLevel: 'error',
      // The page and its workers get the runtime the library links with, in place of the app's pinned one.
      resolve: { alias: [{ find: /^@mlc-ai\/web-llm$/, replacement: WEBLLM_RUNTIME }] },
      plugins: [wasmKernel()],
      worker: { format: 'es', plugins: () => [wasmKernel()] },
      build: { outDir, emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
    });
    const noWeights = join(outDir, NO_WEIGHTS);
    mkdirSync(noWeights);
    for (const file of readdirSync(modelDir).filter((f) => !f.endsWith('.bin'))) copyFileSync(join(modelDir, file), join(noWeights, file));
    // WebLLM reads a model from `<model URL>resolve/main/`, as on Hugging Face.
    server = await serveStatic({
      mounts: { '/': outDir, [`/models/${MODEL_ID}/resolve/main/`]: modelDir, [`/models/${NO_WEIGHTS}/resolve/main/`]: noWeights, '/libs/': dirname(LIBRARY), '/index/': indexDir },
    });
    options = { model: 'Qwen3-0.6B', custom: { id: MODEL_ID, modelUrl: `${server.url}models/${MODEL_ID}/`, modelLibUrl: `${server.url}libs/Qwen2-0.5B-q4f32_1-v0_2_48.wasm`, contextWindow: CONTEXT_WINDOW } };
    browser = await launchChromium({ webgpu: true });
    browser.context.on('weberror', (error) => pageErrors.push(error.error().message));
    page = await browser.context.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => 'harness' in window);
    expect(await call(page, 'check', options)).toBeNull();
    loaded = await call(page, 'load', options);
    console.info(`loaded in ${(loaded.ms / 1000).toFixed(1)} s (${loaded.label})`);
  });

  afterAll(async () => {
    if (page) await call(page, 'unload', undefined).catch(() => {});
    await browser?.close();
    await server?.close();
    for (const dir of [outDir, indexDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loads with one progress bar that never moves back, and ends ready', () => {
    expect(loaded.label).toBe(`WebLLM · ${MODEL_ID}`);
    expect(loaded.progress[0]?.text).toBe(`loading ${MODEL_ID} (custom model)`);
    const fractions = loaded.progress.map((p) => p.fraction).filter((f) => f !== undefined);
    expect(fractions.length).toBeGreaterThan(2);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(fractions.at(-1)).toBe(1);
    // A fresh profile: the weights were fetched, not read from the cache.
    expect(loaded.progress.some((p) => p.text.startsWith('Fetching param cache'))).toBe(true);
    expect(loaded.progress.some((p) => p.fromCache)).toBe(false);
  });

  const hello: ChatMessage[] = [{ role: 'user', content: 'Hi' }];
  let first: HarnessGeneration;
  let history: ChatMessage[];
  let continued: HarnessGeneration;

  it('streams its tokens as deltas and stops at max tokens', async () => {
    first = await generate('stream', { messages: hello, maxTokens: 3, temperature: 0 });
    expect(first.result.finishReason).toBe('length');
    expect(first.deltas.length).toBeGreaterThanOrEqual(2);
    expect(first.deltas.join('')).toBe(first.result.text);
    // WebLLM 0.2.79 counts decoding steps: the token the prefill samples is not among them.
    expect(first.result.usage.completionTokens).toBe(2);
    expect(first.result.usage.promptTokens).toBeGreaterThan(5);
    expect(first.result.timings.prefillMs).toBeGreaterThan(0);
  });

  it('continues a conversation on its KV cache: the next turn prefills only its new tokens', async () => {
    history = [...hello, { role: 'assistant', content: first.result.text }, { role: 'user', content: 'More' }];
    continued = await generate('continued turn', { messages: history, maxTokens: 2, temperature: 0 });
    expect(continued.result.usage.promptTokens).toBeGreaterThan(0);
    expect(continued.result.usage.promptTokens).toBeLessThan(first.result.usage.promptTokens);
    expect(continued.deltas.length).toBe(2);
  });

  it('an abort mid-stream ends the request with what it had', async () => {
    const aborted = await generate('aborted', { messages: hello, maxTokens: 3, temperature: 0, abortAfterDeltas: 1 });
    expect(aborted.result.finishReason).toBe('abort');
    expect(aborted.result.text).toBe(first.deltas[0]);
  });

  it('after the abort, the same history read afresh gives the same tokens, and a stop string cuts inside them', async () => {
    // A stop string across the boundary of the two tokens the continued turn decoded (random weights
    // repeat themselves, so a whole token may well be the first one again).
    const [head = '', next = ''] = continued.deltas;
    const stop = `${head.slice(-1)}${next.slice(0, 1)}`;
    expect(stop.length).toBe(2);
    const expected = continued.result.text.slice(0, continued.result.text.indexOf(stop));
    // The abort's conversation came in between, so this one is prefilled from its start.
    const fresh = await generate('same history, fresh, with a stop string', { messages: history, maxTokens: 2, temperature: 0, stop: [stop] });
    expect(fresh.result.finishReason).toBe('stop');
    expect(fresh.result.text).toBe(expected);
    // The KV reuse the agent-token bench estimates: the continued turn read a fraction of this.
    expect(continued.result.usage.promptTokens).toBeLessThan(fresh.result.usage.promptTokens);
    expect(fresh.result.usage.promptTokens).toBeGreaterThan(first.result.usage.promptTokens);
  });

  it('a wrong model URL is refused before the loaded model is let go, and missing weights fail the load with the app’s message', async () => {
    const custom = (id: string) => ({ ...options, custom: { ...(options.custom as object), id, modelUrl: `${server.url}models/${id}/` } });
    expect(await call(page, 'check', custom('missing'))).toMatch(/^could not load missing: Could not fetch the model's configuration .*\/missing\/resolve\/main\/mlc-chat-config\.json: HTTP 404/);
    // Its configuration is there, so the check passes; its weight shards are not.
    expect(await call(page, 'check', custom(NO_WEIGHTS))).toBeNull();
    await expect(call(page, 'load', custom(NO_WEIGHTS))).rejects.toThrow(`could not load ${NO_WEIGHTS}: one of its files could not be downloaded`);
  });

  it('after all that, runs the always-search agent over the demo index to a bounded, well-formed end', async () => {
    // Prefill costs minutes here and the app's own prompt is about 330 tokens, so the run gets a one-line
    // prompt of the same syntax. No grammar: with one (which WebLLM compiles over the 151,936-token
    // vocabulary on the CPU) a one-turn run did not end within 15 minutes here. The agent's own deadline
    // bounds the run.
    const [question] = hotpotQuestions(1);
    const maxTurns = 1;
    const maxTokensPerTurn = 2;
    const run: HarnessRun = await call(page, 'agent', {
      question: question?.question_text ?? '',
      manifestUrl: `${server.url}index/manifest.json`,
      config: { maxTurns, maxTokensPerTurn, maxTotalTokens: 64, grammar: false, thinking: false, temperature: 0, deadlineMs: 600_000, searchPrompt: 'Reply <search>query</search> or <answer>answer</answer>.' },
    });
    console.info(`agent events: ${run.events.map((e, i) => `${e.type} ${((run.at[i] ?? 0) / 1000).toFixed(1)} s`).join(', ')}`);
    const end = run.events.at(-1) as Extract<AgentEvent, { type: 'end' }>;
    console.info(`agent run: ${(run.ms / 1000).toFixed(1)} s, ended ${end.reason}, ${end.stats.turns} turns, ${end.stats.promptTokens} prompt + ${end.stats.completionTokens} completion tokens`);
    expect(end.type).toBe('end');
    expect(['max-turns', 'max-total-tokens', 'answered', 'repeated-query', 'timeout']).toContain(end.reason);
    expect(end.stats.turns).toBeLessThanOrEqual(maxTurns);
    expect(end.stats.completionTokens).toBeLessThanOrEqual(maxTurns * maxTokensPerTurn);
    expect(run.events.filter((e) => e.type === 'turn').length).toBe(end.stats.turns);
    expect(run.events.some((e) => e.type === 'error')).toBe(false);
    // The transcript alternates as the chat template needs: system, the question, then model and system turns.
    expect(end.transcript.slice(0, 2).map((m) => m.role)).toEqual(['system', 'user']);
    end.transcript.slice(2).forEach((m, i) => expect(m.role).toBe(i % 2 === 0 ? 'assistant' : 'user'));
    expect(pageErrors).toEqual([]);
  });
});
