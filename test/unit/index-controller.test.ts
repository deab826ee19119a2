/**
 * Opening an index as the index form and the runs see it: a newer load wins, a failed one keeps the
 * open index, and a crashed worker is restarted with the index opened again (a few times at most).
 */
import { describe, expect, it } from 'vitest';
import { IndexController, MAX_WORKER_RESTARTS } from '../../src/ui/index-controller.svelte.ts';
import type { EmbeddingProgress } from '../../src/core/index/embedding-progress.ts';
import { settle } from './helpers/fake-engines.ts';
import { FakeWorkers, indexInfo } from './helpers/fake-workers.ts';
import { startRetrievalServer } from './helpers/retrieval-server.ts';
import { watch } from './helpers/watch.svelte.ts';

/** A controller over fake workers; `progress` replaces how it reads the builder's embedding progress. */
function setup(progress?: ConstructorParameters<typeof IndexController>[2]) {
  const workers = new FakeWorkers();
  let cancels = 0;
  const controller = new IndexController(workers.start, () => cancels++, progress);
  /** Opens `url` to the end, as the index `name`. */
  const open = async (url: string, name: string): Promise<void> => {
    const done = controller.load(url);
    await settle();
    workers.latest().opens.at(-1)?.resolve(indexInfo(name));
    await done;
  };
  /** Which worker the open index's searches go to. */
  const searchedBy = async () => (await controller.retriever?.inMode('lexical').search('q', 1))?.[0]?.id ?? null;
  return { workers, controller, open, searchedBy, cancels: () => cancels };
}

describe('IndexController', () => {
  it('opens an index in one worker, cancelling the runs on the old one', async () => {
    const { workers, controller, open, searchedBy, cancels } = setup();
    await open('./a.json', 'A');
    expect(controller.state).toEqual({ status: 'ready', label: 'A · 3 passages' });
    expect(controller.info?.name).toBe('A');
    await open('./b.json', 'B');
    expect(controller.state).toEqual({ status: 'ready', label: 'B · 3 passages' });
    expect(workers.started).toHaveLength(1);
    expect(cancels()).toBe(2);
    expect(await searchedBy()).toBe('worker-1');
  });

  it('does not let a superseded load overwrite the newer one', async () => {
    const { workers, controller } = setup();
    const first = controller.load('./a.json');
    const second = controller.load('./b.json');
    await settle();
    const [a, b] = workers.latest().opens;
    b?.resolve(indexInfo('B'));
    await second;
    a?.onProgress({ text: 'fetching A', fraction: 0.5 });
    a?.resolve(indexInfo('A'));
    await first;
    expect(controller.state).toEqual({ status: 'ready', label: 'B · 3 passages' });
    expect(controller.info?.name).toBe('B');
  });

  it('does not let a late progress report turn a ready index back into a loading one', async () => {
    const { workers, controller } = setup();
    const done = controller.load('./a.json');
    await settle();
    const pending = workers.latest().opens[0];
    pending?.onProgress({ text: 'fetching shards', fraction: 0.25 });
    expect(controller.state).toMatchObject({ status: 'loading', progress: { text: 'fetching shards', fraction: 0.25 } });
    pending?.resolve(indexInfo('A'));
    await done;
    pending?.onProgress({ text: 'fetching shards', fraction: 1 });
    expect(controller.state.status).toBe('ready');
  });

  it('keeps the open index, and says so, when another fails to open', async () => {
    const { workers, controller, open, searchedBy } = setup();
    await open('./a.json', 'A');
    const done = controller.load('./missing.json');
    await settle();
    workers.latest().opens.at(-1)?.reject(new Error('HTTP 404'));
    await done;
    expect(controller.state).toEqual({ status: 'ready', label: 'A · 3 passages' });
    expect(controller.notice).toBe('Could not open ./missing.json: HTTP 404. Still using A · 3 passages.');
    expect(controller.info?.name).toBe('A');
    expect(await searchedBy()).toBe('worker-1');
  });

  it('shows the error when no index was open', async () => {
    const { workers, controller } = setup();
    const done = controller.load('./missing.json');
    await settle();
    workers.latest().opens[0]?.reject(new Error('HTTP 404'));
    await done;
    expect(controller.state).toEqual({ status: 'error', message: 'HTTP 404' });
    expect(controller.info).toBeNull();
    expect(controller.retriever).toBeNull();
  });

  it('says when the index is too large to keep for offline use', async () => {
    const { workers, controller } = setup();
    const done = controller.load('./a.json');
    await settle();
    workers.latest().copiesWhole = false;
    workers.latest().opens[0]?.resolve(indexInfo('A'));
    await done;
    await settle();
    expect(controller.notice).toMatch(/^A is too large to keep whole for offline use/);
  });

  it('restarts a crashed worker and opens the index again in it, at most three times in a row', async () => {
    const { workers, controller, open, searchedBy } = setup();
    await open('./a.json', 'A');
    for (let restart = 1; restart <= MAX_WORKER_RESTARTS; restart++) {
      workers.latest().crash('the retrieval worker crashed: out of memory');
      expect(controller.retriever).toBeNull();
      await settle();
      const reopened = workers.latest().opens[0];
      expect(reopened?.manifestUrl).toBe('./a.json');
      reopened?.resolve(indexInfo('A'));
      await settle();
      expect(controller.state).toEqual({ status: 'ready', label: 'A · 3 passages' });
      expect(controller.notice).toBe('the retrieval worker crashed: out of memory; it was restarted and the index opened again.');
      expect(await searchedBy()).toBe(`worker-${restart + 1}`);
    }
    workers.latest().crash('the retrieval worker crashed: out of memory');
    await settle();
    expect(workers.started).toHaveLength(MAX_WORKER_RESTARTS + 1);
    expect(controller.state).toEqual({ status: 'error', message: 'the retrieval worker crashed: out of memory. It failed 4 times: reload the page.' });
    expect(controller.retriever).toBeNull();
    // Opening an index by hand starts over, with a new worker.
    await open('./a.json', 'A');
    expect(controller.state.status).toBe('ready');
    expect(workers.started).toHaveLength(MAX_WORKER_RESTARTS + 2);
  });

  it('reopens in the new worker an index whose load the crash cut short', async () => {
    const { workers, controller } = setup();
    void controller.load('./a.json');
    await settle();
    workers.latest().crash('the retrieval worker did not answer within 30 s');
    await settle();
    expect(workers.started).toHaveLength(2);
    workers.latest().opens[0]?.resolve(indexInfo('A'));
    await settle();
    expect(controller.state).toEqual({ status: 'ready', label: 'A · 3 passages' });
  });

  it('lets what reads the index follow loads and crashes', async () => {
    const { workers, controller, open } = setup();
    const searchable = watch(() => controller.retriever !== null);
    const status = watch(() => controller.state.status);
    const modes = watch(() => controller.info?.modes.join() ?? null);
    await open('./a.json', 'A');
    workers.latest().crash('the retrieval worker crashed: boom');
    await settle();
    workers.latest().opens[0]?.resolve({ ...indexInfo('A'), modes: ['lexical', 'dense'] });
    await settle();
    expect(searchable.seen()).toEqual([false, true, false, true]);
    expect(status.seen()).toEqual(['idle', 'loading', 'ready', 'loading', 'ready']);
    expect(modes.seen()).toEqual([null, 'lexical', 'lexical,dense']);
    for (const w of [searchable, status, modes]) w.stop();
  });
});

describe('IndexController while the builder embeds the vectors (npm run dev, first run)', () => {
  /** A controller whose progress-file reads wait for the test to answer them. */
  function embeddingSetup() {
    const reads: { url: string; answer: (progress: EmbeddingProgress | null) => void }[] = [];
    const read = (url: string) => new Promise<EmbeddingProgress | null>((answer) => reads.push({ url, answer }));
    const base = setup({ read, pollMs: 0 });
    /** Answers the next read of the progress file, once the poll has asked for it. */
    const answer = async (progress: EmbeddingProgress | null) => {
      await settle();
      reads.at(-1)?.answer(progress);
      await settle();
    };
    return { ...base, reads, answer };
  }

  it('shows how far the embedding has got, then opens the index again with dense search, searching all along', async () => {
    const { workers, controller, open, reads, answer, searchedBy } = embeddingSetup();
    await open('./index/manifest.json', 'Demo');
    expect(reads.map((r) => r.url)).toEqual(['./index/embedding.json']);
    await answer({ embedded: 1106, total: 4427 });
    expect(controller.embedding).toEqual({ embedded: 1106, total: 4427 });
    await answer({ embedded: 4000, total: 4427 });
    expect(controller.embedding?.embedded).toBe(4000);
    // The file is gone: the builder wrote the complete manifest.
    await answer(null);
    expect(workers.latest().opens).toHaveLength(2);
    expect(controller.state).toEqual({ status: 'ready', label: 'Demo · 3 passages' });
    expect(await searchedBy()).toBe('worker-1');
    workers.latest().opens[1]?.resolve({ ...indexInfo('Demo'), modes: ['lexical', 'dense', 'hybrid'], embedder: 'use-lite' });
    await settle();
    expect(controller.info?.modes).toEqual(['lexical', 'dense', 'hybrid']);
    expect(controller.embedding).toBeNull();
    expect(reads).toHaveLength(3);
  });

  it('reads no progress for an index without vectors that nothing is embedding', async () => {
    const { workers, controller, open, answer } = embeddingSetup();
    await open('./mine/manifest.json', 'Mine');
    await answer(null);
    expect(controller.embedding).toBeNull();
    expect(workers.latest().opens).toHaveLength(1);
  });

  it('stops watching when another index is opened', async () => {
    const { workers, controller, open, answer } = embeddingSetup();
    await open('./index/manifest.json', 'Demo');
    await answer({ embedded: 10, total: 100 });
    const second = controller.load('./other/manifest.json');
    await settle();
    expect(controller.embedding).toBeNull();
    workers.latest().opens[1]?.resolve({ ...indexInfo('Other'), embedder: 'use-lite', modes: ['lexical', 'dense', 'hybrid'] });
    await second;
    await answer(null);
    expect(workers.latest().opens).toHaveLength(2);
    expect(controller.info?.name).toBe('Other');
  });

  describe('a retrieval server', () => {
    it('is searched instead of the local index once it answers, and named by its URL', async () => {
      const { controller, open, searchedBy, cancels } = setup();
      await open('./a.json', 'A');
      const server = await startRetrievalServer();
      try {
        await controller.connect(server.url);
        expect(controller.state).toEqual({ status: 'ready', label: `${server.url}/retrieve · retrieval server` });
        expect(controller.server).toBe(`${server.url}/retrieve`);
        expect(cancels()).toBe(2);
        expect(await searchedBy()).toBe('remote-1');
        await open('./b.json', 'B');
        expect(controller.server).toBeNull();
        expect(await searchedBy()).toBe('worker-1');
      } finally {
        server.close();
      }
    });

    it('that fails leaves the open index searched, with a notice that says why', async () => {
      const { controller, open, searchedBy } = setup();
      await open('./a.json', 'A');
      const server = await startRetrievalServer(true);
      try {
        await controller.connect(server.url);
        expect(controller.state).toEqual({ status: 'ready', label: 'A · 3 passages' });
        expect(controller.notice).toBe(`Could not connect to ${server.url}: the retrieval server at ${server.url}/retrieve answered HTTP 500: index not loaded. Still using A · 3 passages.`);
        expect(await searchedBy()).toBe('worker-1');
      } finally {
        server.close();
      }
    });
  });
});
