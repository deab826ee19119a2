/** One embedding worker thread of the EmbedderPool: loads the embedder, then embeds batches on request. */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../src/core/util/error-message.ts';
import { loadEmbedder } from './embedders.ts';
import type { PoolReply, PoolRequest, PoolWorkerData } from './embed-pool.ts';

const port = parentPort;
if (!port) throw new Error('embed-worker runs in a worker thread');
const reply = (message: PoolReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

try {
  const loaded = await loadEmbedder((workerData as PoolWorkerData).choice);
  if (!loaded) throw new Error('no embedder chosen');
  reply({ type: 'ready', spec: loaded.spec });
  port.on('message', (request: PoolRequest) => {
    loaded.instance.embed(request.texts, request.kind).then(
      (vectors) => reply({ type: 'vectors', id: request.id, vectors }, vectors.map((v) => v.buffer as ArrayBuffer)),
      (error: unknown) => reply({ type: 'error', id: request.id, message: errorMessage(error) }),
    );
  });
} catch (error) {
  reply({ type: 'error', id: -1, message: errorMessage(error) });
}
