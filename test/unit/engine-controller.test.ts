/**
 * The model's life cycle as the engine form and the runs see it: loading, a refused or failed load (and
 * the working model loaded again), a blocked host, an unload, and the reload after the engine breaks;
 * and that what the pages read follows it.
 */
import { describe, expect, it } from 'vitest';
import { EngineController } from '../../src/ui/engine-controller.svelte.ts';
import { FakeLoader, model, settle, type FakeEngine } from './helpers/fake-engines.ts';
import { watch } from './helpers/watch.svelte.ts';

function setup() {
  const loader = new FakeLoader();
  // Counts the cancels of the runs on the model: every load but a recovery makes one.
  let cancels = 0;
  const controller = new EngineController(loader, () => cancels++);
  /** Loads `label` to the end: the loader hands out a new engine for it. */
  const load = async (label: string): Promise<FakeEngine> => {
    const done = controller.load(model(label));
    await settle();
    const engine = loader.finish();
    await done;
    return engine;
  };
  return { loader, controller, load, cancels: () => cancels };
}

const ask = { messages: [{ role: 'user' as const, content: 'hi' }], maxTokens: 8 };

describe('EngineController', () => {
  it('shows the load, then runs on the loaded engine', async () => {
    const { loader, controller } = setup();
    const done = controller.load(model('qwen-a'));
    await settle();
    expect(controller.state).toEqual({ status: 'loading', progress: { text: 'starting' } });
    loader.loads[0]?.onProgress({ text: 'fetching weights', loadedBytes: 10, totalBytes: 100, fromCache: true });
    expect(controller.state).toMatchObject({ status: 'loading', progress: { text: 'fetching weights' } });
    const engine = loader.finish();
    await done;
    expect(controller.state).toEqual({ status: 'ready', label: 'qwen-a', fromCache: true });
    await expect(controller.current?.generate(ask)).resolves.toMatchObject({ text: 'qwen-a says hi' });
    expect(engine.generated).toBe(1);
  });

  it('keeps the working model, and the runs on it, when the new settings are invalid', async () => {
    const { loader, controller, load, cancels } = setup();
    const working = await load('qwen-a');
    loader.invalid.set('bad url', 'the model URL must be http(s).');
    await controller.load(model('bad url'));
    expect(controller.notice).toBe('Not loaded: the model URL must be http(s). Still using qwen-a.');
    expect(controller.state).toMatchObject({ status: 'ready', label: 'qwen-a' });
    expect(working.unloaded).toBe(false);
    expect(cancels()).toBe(1);
    await expect(controller.current?.generate(ask)).resolves.toMatchObject({ text: 'qwen-a says hi' });
    // The next attempt starts with no word from this one.
    const next = controller.load(model('qwen-b'));
    expect(controller.notice).toBeNull();
    await settle();
    loader.finish();
    await next;
  });

  it('shows why when the first settings are invalid', async () => {
    const { loader, controller } = setup();
    loader.invalid.set('bad url', 'the model URL must be http(s).');
    await controller.load(model('bad url'));
    expect(controller.state).toEqual({ status: 'error', message: 'the model URL must be http(s).' });
    expect(controller.notice).toBeNull();
  });

  it('lets the working model go before a load, and loads it again when the new one fails', async () => {
    const { loader, controller, load, cancels } = setup();
    const working = await load('qwen-a');
    const done = controller.load(model('qwen-b'));
    await settle();
    // Two models may not fit in memory: the working one goes first.
    expect(working.unloaded).toBe(true);
    expect(cancels()).toBe(2);
    loader.fail('out of memory.');
    await settle();
    expect(loader.loads.map((l) => l.label)).toEqual(['qwen-a', 'qwen-b', 'qwen-a']);
    expect(controller.state).toMatchObject({ status: 'loading' });
    const again = loader.finish();
    await done;
    expect(controller.notice).toBe('Not loaded: out of memory. qwen-a was loaded again.');
    expect(controller.state).toMatchObject({ status: 'ready', label: 'qwen-a' });
    await expect(controller.current?.generate(ask)).resolves.toMatchObject({ text: 'qwen-a says hi' });
    expect(again.generated).toBe(1);
    expect(loader.remembered).toEqual(model('qwen-a'));
  });

  it('says so when the working model cannot be loaded again either', async () => {
    const { loader, controller, load } = setup();
    await load('qwen-a');
    const done = controller.load(model('qwen-b'));
    await settle();
    loader.fail('out of memory.');
    await settle();
    loader.fail('the download stopped.');
    await done;
    expect(controller.state).toEqual({ status: 'error', message: 'the download stopped.' });
    expect(controller.notice).toBe('Not loaded: out of memory. qwen-a could not be loaded again either.');
    expect(controller.current).toBeNull();
  });

  it('a failed first load leaves none, and the next attempt clears what the last one said', async () => {
    const { loader, controller } = setup();
    const first = controller.load(model('qwen-a'));
    await settle();
    loader.fail('HTTP 404.');
    await first;
    expect(controller.state).toEqual({ status: 'error', message: 'HTTP 404.' });
    expect(loader.loads).toHaveLength(1);
    let checked: () => void = () => undefined;
    loader.check = () => new Promise<void>((resolve) => (checked = resolve));
    const second = controller.load(model('qwen-b'));
    // While the new settings are checked, the old error is gone.
    expect(controller.state).toMatchObject({ status: 'loading', progress: { text: 'checking the model' } });
    checked();
    await settle();
    loader.finish();
    await second;
    expect(controller.state).toMatchObject({ status: 'ready', label: 'qwen-b' });
  });

  it('unloads: the model is freed, its runs cancelled, and it is not loaded by itself on return', async () => {
    const { loader, controller, load, cancels } = setup();
    const working = await load('qwen-a');
    expect(loader.remembered).toEqual(model('qwen-a'));
    await controller.unload();
    expect(working.unloaded).toBe(true);
    expect(cancels()).toBe(2);
    expect(controller.state).toEqual({ status: 'idle' });
    expect(controller.current).toBeNull();
    expect(loader.remembered).toBeNull();
  });

  it('keeps the model when the page may not reach the new host', async () => {
    const { loader, controller, load, cancels } = setup();
    const working = await load('qwen-a');
    loader.blocked.set('remote', 'https://models.example');
    // The check would fetch from the host, which the page's policy refuses: it is not run.
    loader.invalid.set('remote', 'Could not download https://models.example/m.gguf: Failed to fetch.');
    await controller.load(model('remote'));
    expect(controller.blockedHost).toBe('https://models.example');
    expect(controller.notice).toBeNull();
    expect(loader.loads).toHaveLength(1);
    expect(working.unloaded).toBe(false);
    expect(cancels()).toBe(1);
    expect(controller.state).toMatchObject({ status: 'ready', label: 'qwen-a' });
  });

  it('loads the model again when the engine breaks, and says so', async () => {
    const { loader, controller, load, cancels } = setup();
    const broken = await load('qwen-a');
    broken.broken = true;
    await expect(controller.current?.generate(ask)).rejects.toThrow('the GPU device was lost');
    await settle();
    expect(controller.notice).toBe('The engine stopped (the GPU device was lost). The model was loaded again.');
    expect(loader.loads.map((l) => l.label)).toEqual(['qwen-a', 'qwen-a']);
    // The run that hit the failure ends with its own error; nothing else is cancelled.
    expect(cancels()).toBe(1);
    const fresh = loader.finish();
    await settle();
    expect(broken.unloaded).toBe(true);
    await expect(controller.current?.generate(ask)).resolves.toMatchObject({ text: 'qwen-a says hi' });
    expect(fresh.generated).toBe(1);
  });

  it('lets what reads the engine follow every load', async () => {
    const { controller, load } = setup();
    const engine = watch(() => controller.current?.label ?? null);
    const status = watch(() => controller.state.status);
    await load('qwen-a');
    await load('qwen-b');
    expect(engine.seen()).toEqual([null, 'qwen-a', null, 'qwen-b']);
    expect(status.seen()).toEqual(['idle', 'loading', 'ready', 'loading', 'ready']);
    engine.stop();
    status.stop();
  });
});
