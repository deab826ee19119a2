/** Engines and an engine loader for the page's controllers: each load is held until the test settles it. */
import { EngineError, type GenerateResult, type LlmEngine } from '../../../src/core/agent/engine.ts';
import type { LoadProgress } from '../../../src/core/util/load-progress.ts';
import type { EngineSettings } from '../../../src/engines/load.ts';
import type { EngineLoader } from '../../../src/ui/engine-controller.svelte.ts';

export class FakeEngine implements LlmEngine {
  readonly capabilities = { grammar: false, logprobs: true };
  unloaded = false;
  generated = 0;
  /** Set to make the next generate call fail as a lost GPU does. */
  broken = false;

  constructor(readonly label: string) {}

  async generate(): Promise<GenerateResult> {
    if (this.broken) throw new EngineError('the GPU device was lost', { fatal: true });
    this.generated++;
    return { text: `${this.label} says hi`, finishReason: 'stop', usage: { promptTokens: 4, completionTokens: 3 }, timings: { prefillMs: 0, decodeMs: 0 } };
  }

  async unload(): Promise<void> {
    this.unloaded = true;
  }
}

/** Settings naming the fake model to load (`modelUrl` is its label). */
export const model = (label: string): EngineSettings => ({ kind: 'wllama', modelUrl: label });

export class FakeLoader implements EngineLoader {
  readonly loads: { label: string; onProgress: (progress: LoadProgress) => void; finish: (engine: LlmEngine | Error) => void }[] = [];
  /** Labels the check refuses, with why. */
  readonly invalid = new Map<string, string>();
  readonly blocked = new Map<string, string>();
  /** What the loader was last asked to remember (undefined: never asked). */
  remembered: EngineSettings | null | undefined = undefined;

  async check(settings: EngineSettings): Promise<void> {
    const why = this.invalid.get(label(settings));
    if (why) throw new Error(why);
  }

  load(settings: EngineSettings, onProgress: (progress: LoadProgress) => void): Promise<LlmEngine> {
    return new Promise((resolve, reject) => {
      this.loads.push({ label: label(settings), onProgress, finish: (engine) => (engine instanceof Error ? reject(engine) : resolve(engine)) });
    });
  }

  blockedHost(settings: EngineSettings): string | null {
    return this.blocked.get(label(settings)) ?? null;
  }

  remember(settings: EngineSettings | null): void {
    this.remembered = settings;
  }

  /** Resolves the latest load with a new engine and returns it. */
  finish(): FakeEngine {
    const pending = this.loads.at(-1);
    if (!pending) throw new Error('no load is pending');
    const engine = new FakeEngine(pending.label);
    pending.finish(engine);
    return engine;
  }

  fail(message: string): void {
    this.loads.at(-1)?.finish(new Error(message));
  }
}

function label(settings: EngineSettings): string {
  return settings.kind === 'wllama' ? settings.modelUrl : settings.model;
}

/** Lets the controller's pending promise handlers run. */
export const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
