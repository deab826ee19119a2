/**
 * `npm run bench:first-run`: a fresh clone's first `npm run dev`, timed until a question is answered.
 * A measurement, not a test: it clones this repository (`git clone`: what is committed), links
 * node_modules and ../shared beside it, removes public/index, puts the tiny model where the dev server
 * serves it, spawns `npm run dev`, and drives Chromium: load the tiny model on wllama, pick a sample
 * question, ask it, wait for the run's end. It reports the seconds from the spawn to each step.
 *
 *   npm run bench:first-run                    until the answer
 *   npm run bench:first-run -- --dense         also until the page offers dense search (the vectors land)
 *   npm run bench:first-run -- --out <file.json> (default .cache/bench/first-run.json)
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from 'playwright-core';
import { launchChromium } from '../browser/chromium.ts';
import { loadTinyModel, openPanel } from '../browser/app-fixture.ts';
import { ensureTinyModel } from '../tools/make-tiny-gguf.mjs';

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { dense: { type: 'boolean', default: false }, port: { type: 'string', default: '5199' }, out: { type: 'string', default: '.cache/bench/first-run.json' } } });
const url = `http://127.0.0.1:${values.port}/`;

/** A clone as a user has it after `git clone` and `npm install`, with ../shared beside it. */
function freshClone(): string {
  const parent = mkdtempSync(join(tmpdir(), 'sdg-first-run-'));
  const dir = join(parent, 'project');
  execFileSync('git', ['clone', '--quiet', ROOT, dir]);
  rmSync(join(dir, 'public/index'), { recursive: true, force: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  symlinkSync(resolve(ROOT, '../shared'), join(parent, 'shared'));
  // The one thing a user would fetch from elsewhere: the model, served here by the dev server itself.
  mkdirSync(join(dir, 'public/bench-gguf'));
  copyFileSync(ensureTinyModel(), join(dir, 'public/bench-gguf/tiny-qwen3.gguf'));
  return dir;
}

/** `npm run dev` in its own process group, so that it ends with everything it started. */
function startDev(dir: string): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn('npm', ['run', 'dev', '--', '--port', values.port, '--strictPort'], { cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function stopDev(child: ChildProcess): Promise<void> {
  if (!child.pid || child.exitCode !== null) return;
  const ended = new Promise((done) => child.once('exit', done));
  process.kill(-child.pid, 'SIGINT');
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 10_000);
  await ended;
  clearTimeout(timer);
}

/** Until the dev server answers (the page's first request, as a user's reload would be). */
async function served(child: ChildProcess, output: () => string): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`npm run dev exited (${child.exitCode}):\n${output()}`);
    const ok = await fetch(url).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((done) => setTimeout(done, 250));
  }
}

async function ask(page: Page): Promise<string | null> {
  await page.click('[data-testid=sample-question]');
  await page.click('button:text-is("Ask")');
  await page.waitForSelector('[data-kind=end]', { timeout: 180_000 });
  return page.getAttribute('[data-kind=end]', 'data-reason');
}

async function denseOffered(page: Page): Promise<void> {
  await openPanel(page, 'settings');
  await page.waitForSelector('select[name=retrieval-mode] option[value=dense]', { state: 'attached', timeout: 1_800_000 });
}

const dir = freshClone();
const steps: Record<string, number> = {};
const started = performance.now();
const mark = (step: string): number => {
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  steps[step] = seconds;
  console.error(`[${seconds.toFixed(1).padStart(6)} s] ${step}`);
  return seconds;
};
const dev = startDev(dir);
const browser = await launchChromium();
try {
  await served(dev.child, dev.output);
  mark('dev server answers');
  const page = await browser.context.newPage();
  await page.goto(url);
  await loadTinyModel(page, { modelUrl: `${url}bench-gguf/tiny-qwen3.gguf` });
  mark('tiny model and index ready');
  const reason = await ask(page);
  const answered = mark(`question answered (run ended: ${reason})`);
  const chip = await page.textContent('[data-testid=index-chip]');
  console.error(`index chip at the answer: ${chip?.replace(/\s+/g, ' ').trim()}`);
  if (values.dense) {
    await denseOffered(page);
    mark('dense search offered (vectors embedded, index opened again)');
  }
  mkdirSync(dirname(resolve(values.out)), { recursive: true });
  writeFileSync(resolve(values.out), JSON.stringify({ answeredSeconds: answered, steps }, null, 1));
  console.log(`first run: npm run dev to an answered question in ${answered.toFixed(1)} s (results in ${values.out})`);
} catch (error) {
  console.error(dev.output());
  throw error;
} finally {
  await browser.close();
  await stopDev(dev.child);
  rmSync(dirname(dir), { recursive: true, force: true });
}
