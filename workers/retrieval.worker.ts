/**
 * The retrieval worker: the RetrievalService over the browser's network, Cache API and wasm embedders,
 * off the main thread. Spoken to through comlink; posts `{ type: 'ready' }` once its modules are loaded,
 * since messages sent earlier would be lost.
 */
import * as Comlink from 'comlink';
import type { RetrievalApi } from '../src/retrieval/retrieval-protocol.ts';
import { RetrievalService } from '../src/retrieval/retrieval-service.ts';
import { browserDependencies } from './browser-retrieval.ts';

const service: RetrievalApi = new RetrievalService(browserDependencies);
Comlink.expose(service);
self.postMessage({ type: 'ready' });
