/** Retrieval workers for the index controller: each open is held until the test settles it, and a worker can crash. */
import type { Passage, Retriever } from '../../../src/core/agent/retriever.ts';
import type { IndexClient, StartWorker } from '../../../src/ui/index-controller.svelte.ts';
import type { IndexInfo } from '../../../src/retrieval/retrieval-protocol.ts';
import type { LoadProgress } from '../../../src/core/util/load-progress.ts';

export const indexInfo = (name: string): IndexInfo => ({ name, passages: 3, bytes: 1_000, modes: ['lexical'], embedder: null, denseUnavailable: null, embedderServer: null });

interface PendingOpen {
  manifestUrl: string;
  onProgress: (progress: LoadProgress) => void;
  resolve: (info: IndexInfo) => void;
  reject: (error: Error) => void;
}

export class FakeWorker implements IndexClient {
  readonly opens: PendingOpen[] = [];
  /** What prefetch answers: whether the whole index was copied for offline use. */
  copiesWhole = true;

  constructor(
    readonly id: number,
    private readonly onFailure: (error: Error) => void,
  ) {}

  open(manifestUrl: string, onProgress: (progress: LoadProgress) => void): Promise<IndexInfo> {
    return new Promise((resolve, reject) => this.opens.push({ manifestUrl, onProgress, resolve, reject }));
  }

  async prefetch(): Promise<boolean> {
    return this.copiesWhole;
  }

  async trim(): Promise<number> {
    return 0;
  }

  /** Answers with one passage naming this worker, so a test sees which worker searched. */
  inMode(): Retriever {
    return { search: async (): Promise<Passage[]> => [{ id: `worker-${this.id}`, title: 'T', text: 'x', score: 1 }] };
  }

  /** Dies as a crashed worker does: the page hears once, and calls in flight fail. */
  crash(message: string): void {
    const error = new Error(message);
    this.onFailure(error);
    for (const open of this.opens) open.reject(error);
  }
}

export class FakeWorkers {
  readonly started: FakeWorker[] = [];

  readonly start: StartWorker = async (onFailure) => {
    const worker = new FakeWorker(this.started.length + 1, onFailure);
    this.started.push(worker);
    return worker;
  };

  latest(): FakeWorker {
    const worker = this.started.at(-1);
    if (!worker) throw new Error('no worker started');
    return worker;
  }
}
