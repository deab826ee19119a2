/**
 * Where a question's wall time goes with a real engine: the built app in headless Debian Chromium, wllama
 * on the CPU running the tiny random-weight Qwen3 GGUF, the retrieval worker over a small index. Each
 * run's split (model = prefill + decode as the engine timed them, retrieval, the rest: agent loop, worker
 * messages, rendering) is read from the Ask page. The tiny model is far faster than a real one, so the
 * share outside the model is an upper bound on what a user with a real model sees.
 */
import { launchChromium } from '../browser/chromium.ts';
import { demoQuestions, loadTinyModel, startAppFixture } from '../browser/app-fixture.ts';

export interface AgentOverheadReport {
  questions: number;
  /** Means over the questions. */
  wallMs: number;
  modelShare: number;
  retrievalShare: number;
  otherShare: number;
}

export async function agentOverheadBench(options: { questions: number; log: (line: string) => void }): Promise<AgentOverheadReport> {
  options.log('agent overhead: building the app, running the tiny model in Chromium…');
  const app = await startAppFixture({ questions: Math.max(options.questions, 3) });
  const browser = await launchChromium();
  try {
    const page = await browser.context.newPage();
    await page.goto(app.server.url);
    await loadTinyModel(page, app);
    const splits: { model: number; retrieval: number; other: number; wall: number }[] = [];
    for (const { question } of demoQuestions(options.questions)) {
      await page.fill('textarea[name=question]', question);
      await page.click('button:text-is("Ask")');
      const split = page.locator('[data-testid=run][data-ended]');
      await split.waitFor({ timeout: 180_000 });
      const read = async (name: string) => Number(await split.getAttribute(`data-${name}-ms`));
      splits.push({ model: await read('model'), retrieval: await read('retrieval'), other: await read('other'), wall: await read('wall') });
    }
    const mean = (pick: (s: (typeof splits)[number]) => number) => splits.reduce((sum, s) => sum + pick(s), 0) / splits.length;
    return {
      questions: splits.length,
      wallMs: mean((s) => s.wall),
      modelShare: mean((s) => s.model / s.wall),
      retrievalShare: mean((s) => s.retrieval / s.wall),
      otherShare: mean((s) => s.other / s.wall),
    };
  } finally {
    await browser.close();
    await app.close();
  }
}
