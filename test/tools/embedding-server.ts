/**
 * An OpenAI-compatible embedding server on 127.0.0.1 around a real inference engine: transformers.js on
 * ONNX Runtime (native, in Node) running the tiny BERT encoder the project writes itself
 * (make-tiny-bert.mjs), mean-pooled and NOT normalised, as text-embeddings-inference or llama-server
 * with normalisation off would answer. No npm or Debian package ships a server of /v1/embeddings that
 * runs here (llama.cpp's llama-server builds from the source node-llama-cpp ships, but in far too long
 * for CI), so this file is the HTTP half, the engine the other.
 *
 * Its errors are shaped as OpenAI's: a model it does not serve is a 404 naming the model. Also a command,
 * for trying the builder by hand: `npx tsx test/tools/embedding-server.ts [--port 8090]`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { z } from 'zod';
import { ensureTinyBert } from './make-tiny-bert.mjs';

export interface EmbeddingServer {
  /** `http://127.0.0.1:<port>` (the routes are under `/v1`). */
  url: string;
  /** The one model it serves. */
  model: string;
  /** What it was asked so far: requests to /v1/embeddings and the texts in them. */
  served: { requests: number; inputs: number };
  /** The engine's own vectors for these texts (pooled, not normalised), for a test to compare with. */
  engine(texts: readonly string[]): Promise<number[][]>;
  close(): Promise<void>;
}

const Request = z.object({ model: z.string(), input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]) });

/** Bodies past this are refused, as any server bounds what it reads. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function startEmbeddingServer(port = 0): Promise<EmbeddingServer> {
  const folder = ensureTinyBert();
  const model = basename(folder);
  Object.assign(env, { allowRemoteModels: false, allowLocalModels: true, localModelPath: `${dirname(folder)}/` });
  const extractor = await pipeline('feature-extraction', model, { dtype: 'fp32' });
  const served = { requests: 0, inputs: 0 };
  const engine = (texts: readonly string[]) => pooled(extractor, texts);
  const server = createServer((req, res) => {
    handle(req, res, model, async (texts) => {
      served.requests++;
      served.inputs += texts.length;
      return engine(texts);
    }).catch((error: unknown) => send(res, 500, { error: { message: String(error), type: 'server_error' } }));
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    model,
    served,
    engine,
    close: async () => {
      await new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      });
      await extractor.dispose();
    },
  };
}

async function pooled(extractor: FeatureExtractionPipeline, texts: readonly string[]): Promise<number[][]> {
  const output = await extractor([...texts], { pooling: 'mean', normalize: false });
  return output.tolist() as number[][];
}

async function handle(req: IncomingMessage, res: ServerResponse, model: string, embed: (texts: string[]) => Promise<number[][]>): Promise<void> {
  if (req.method !== 'POST' || req.url !== '/v1/embeddings') return send(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
  const raw = await readBody(req);
  if (raw === null) return send(res, 413, { error: { message: 'request body too large', type: 'invalid_request_error' } });
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return send(res, 400, { error: { message: 'the body is not JSON', type: 'invalid_request_error' } });
  }
  const parsed = Request.safeParse(json);
  if (!parsed.success) return send(res, 400, { error: { message: `invalid request: ${parsed.error.issues[0]?.message ?? ''}`, type: 'invalid_request_error' } });
  if (parsed.data.model !== model) {
    return send(res, 404, { error: { message: `The model \`${parsed.data.model}\` does not exist: this server runs ${model}`, type: 'invalid_request_error', code: 'model_not_found' } });
  }
  const texts = typeof parsed.data.input === 'string' ? [parsed.data.input] : parsed.data.input;
  const vectors = await embed(texts);
  const tokens = texts.reduce((sum, text) => sum + text.split(/\s+/).length, 0);
  send(res, 200, { object: 'list', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (bytes <= MAX_BODY_BYTES) parts.push(chunk);
    });
    req.on('end', () => resolve(bytes > MAX_BODY_BYTES ? null : Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' }).end(JSON.stringify(body));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8090' } } });
  const server = await startEmbeddingServer(Number(values.port));
  console.log(`serving ${server.model} at ${server.url}/v1/embeddings (Ctrl-C stops)`);
}
