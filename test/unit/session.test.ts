/**
 * What the pages read from the session where a run needs both the model and the index: it follows each
 * load, and the probe's confidence (adaptive mode) always uses the model loaded now.
 */
import { describe, expect, it } from 'vitest';
import { ConfidenceProbe } from '../../src/core/probe/probe-model.ts';
import { ProbeState } from '../../src/ui/probe.svelte.ts';
import { Session } from '../../src/ui/session.svelte.ts';
import { FakeLoader, model, settle, type FakeEngine } from './helpers/fake-engines.ts';
import { FakeWorkers, indexInfo } from './helpers/fake-workers.ts';
import { startRetrievalServer } from './helpers/retrieval-server.ts';
import { watch } from './helpers/watch.svelte.ts';

function setup() {
  const engines = new FakeLoader();
  const workers = new FakeWorkers();
  const session = new Session({ engines, startWorker: workers.start });
  const loadModel = async (label: string): Promise<FakeEngine> => {
    const done = session.engine.load(model(label));
    await settle();
    const engine = engines.finish();
    await done;
    return engine;
  };
  const openIndex = async (name: string): Promise<void> => {
    const done = session.index.load(`./${name}.json`);
    await settle();
    workers.latest().opens.at(-1)?.resolve(indexInfo(name));
    await done;
  };
  return { session, loadModel, openIndex };
}

/** A probe as stored after training (its weights do not matter here), for the model `engine`. */
function trainedProbe(session: Session, engine: string): ProbeState {
  const probe = new ProbeState(session);
  const data = {
    kind: 'sdg-confidence-probe',
    version: 1,
    features: ['meanLogprob', 'minLogprob', 'meanEntropy', 'answerTokens', 'pYes'],
    featureOptions: { maxTokens: 16, topLogprobs: 5, yesNoTopLogprobs: 5 },
    labelThreshold: 0.5,
    mean: [0, 0, 0, 0, 0],
    std: [1, 1, 1, 1, 1],
    w1: [[1], [1], [1], [1], [1]],
    b1: [0],
    w2: [1],
    b2: 0,
    trainedOn: { examples: 2, positives: 1 },
  };
  probe.probe = ConfidenceProbe.fromJSON(data);
  probe.calibration = { createdAt: 0, engine, dataset: 'test', questions: [], rows: [], labelThreshold: 0.5, probe: probe.probe.toJSON(), threshold: 0.8 };
  return probe;
}

describe('Session', () => {
  it('offers a run the engine and the index once both are loaded, and follows each load', async () => {
    const { session, loadModel, openIndex } = setup();
    const ready = watch(() => session.benchDeps('lexical')?.label ?? null);
    await loadModel('qwen-a');
    await openIndex('A');
    await loadModel('qwen-b');
    expect(ready.seen()).toEqual([null, 'qwen-a', null, 'qwen-b']);
    ready.stop();
  });

  it("names the retrieval server a benchmark run searches, and none once the local index is open again", async () => {
    const { session, loadModel, openIndex } = setup();
    await loadModel('qwen-a');
    await openIndex('A');
    expect(session.benchDeps('lexical')?.server).toBeNull();
    const server = await startRetrievalServer();
    try {
      await session.index.connect(server.url);
      expect(session.benchDeps('lexical')?.server).toBe(`${server.url}/retrieve`);
      expect(await session.benchDeps('lexical')?.retriever.search('q', 1)).toMatchObject([{ id: 'remote-1' }]);
    } finally {
      server.close();
    }
    await openIndex('B');
    expect(session.benchDeps('lexical')?.server).toBeNull();
  });

  it('gives adaptive mode a confidence on the model loaded now, never on one let go', async () => {
    const { session, loadModel, openIndex } = setup();
    await openIndex('A');
    const first = await loadModel('qwen-a');
    const probe = trainedProbe(session, 'qwen-a');
    // As App.svelte derives the adaptive policy.
    const confidence = watch(() => probe.confidence);
    const unavailable = watch(() => probe.unavailable);
    const second = await loadModel('qwen-a');
    const [before, during, after] = confidence.seen();
    expect(before).not.toBeNull();
    expect(during).toBeNull();
    await after?.('Who wrote Hamlet?');
    expect(second.generated).toBeGreaterThan(0);
    expect(first.generated).toBe(0);
    expect(unavailable.seen()).toEqual([null, 'load the model and the index first', null]);
    await loadModel('qwen-b');
    expect(unavailable.seen().at(-1)).toBe('the probe was trained for qwen-a, not qwen-b: run the calibration with this model');
    expect(confidence.seen().at(-1)).toBeNull();
    confidence.stop();
    unavailable.stop();
  });
});
