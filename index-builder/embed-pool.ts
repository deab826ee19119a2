/**
 * Embeds on every core: one embedder per worker thread, batches handed to whichever is free. USE-lite
 * on tfjs's wasm backend uses one thread, so two cores embed the demo corpus in about half the time.
 */
import { Worker } from 'node:worker_threads';
import type { EmbedKind, Embedder } from '../src/core/agent/embedder.ts';
import type { EmbedderSpec } from '../src/core/index/index-manifest.ts';
import type { EmbedderChoice } from './embedders.ts';

export interface PoolWorkerData {
  module: string;
  choice: EmbedderChoice;
}
export interface PoolRequest {
  id: number;
  texts: readonly string[];
  kind: EmbedKind;
}
export type PoolReply = { type: 'ready'; spec: EmbedderSpec } | { type: 'vectors'; id: number; vectors: Float32Array[] } | { type: 'error'; id: number; message: string };

interface Job extends PoolRequest {
  resolve(vectors: Float32Array[]): void;
  reject(error: Error): void;
}

export class EmbedderPool implements Embedder {
  private readonly idle: Worker[];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;

  private constructor(
    private readonly workers: Worker[],
    readonly spec: EmbedderSpec,
  ) {
    this.idle = [...workers];
    for (const worker of workers) {
      worker.on('message', (reply: PoolReply) => this.settle(worker, reply));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => code !== 0 && this.fail(new Error(`an embedding worker stopped (exit code ${code})`)));
    }
  }

  static async start(choice: EmbedderChoice, size: number): Promise<EmbedderPool> {
    const workerData: PoolWorkerData = { module: new URL('./embed-worker.ts', import.meta.url).href, choice };
    const workers = Array.from({ length: size }, () => new Worker(new URL('./worker-boot.mjs', import.meta.url), { workerData }));
    try {
      const specs = await Promise.all(workers.map(ready));
      return new EmbedderPool(workers, specs[0] as EmbedderSpec);
    } catch (error) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw error;
    }
  }

  get id(): string {
    return this.spec.id;
  }

  get dimension(): number {
    return this.spec.dimension;
  }

  get parallelism(): number {
    return this.workers.length;
  }

  embed(texts: readonly string[], kind: EmbedKind): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, texts, kind, resolve, reject });
      this.dispatch();
    });
  }

  async dispose(): Promise<void> {
    for (const job of [...this.queue, ...this.running.values()]) job.reject(new Error('the embedder pool was shut down'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length && this.queue.length) {
      const worker = this.idle.pop() as Worker;
      const job = this.queue.shift() as Job;
      this.running.set(worker, job);
      worker.postMessage({ id: job.id, texts: job.texts, kind: job.kind } satisfies PoolRequest);
    }
  }

  /** A crashed worker fails every pending batch: the build stops with the error rather than hanging. */
  private fail(error: Error): void {
    for (const job of [...this.queue.splice(0), ...this.running.values()]) job.reject(error);
    this.running.clear();
  }

  private settle(worker: Worker, reply: PoolReply): void {
    const job = this.running.get(worker);
    if (!job || reply.type === 'ready') return;
    this.running.delete(worker);
    this.idle.push(worker);
    if (reply.type === 'vectors') job.resolve(reply.vectors);
    else job.reject(new Error(reply.message));
    this.dispatch();
  }
}

function ready(worker: Worker): Promise<EmbedderSpec> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: PoolReply) => {
      worker.off('error', reject);
      if (reply.type === 'ready') resolve(reply.spec);
      else reject(new Error(reply.type === 'error' ? reply.message : 'unexpected reply'));
    };
    worker.once('message', onMessage);
    worker.once('error', reject);
  });
}
