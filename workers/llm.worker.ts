/**
 * Hosts WebLLM's engine off the main thread: the page stays responsive while the GPU decodes. WebLLM
 * ships its own worker protocol (streaming, interrupt, progress), so this file only wires its handler.
 */
import { WebWorkerMLCEngineHandler } from '@mlc-ai/web-llm';

const handler = new WebWorkerMLCEngineHandler();
self.onmessage = (message: MessageEvent) => handler.onmessage(message);
