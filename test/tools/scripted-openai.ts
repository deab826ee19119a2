/**
 * An OpenAI-compatible chat server on 127.0.0.1 that answers from a script, streaming as llama.cpp's
 * server does (SSE deltas, then usage). It checks the agent, the runner, the CLI and the page around a
 * model, never a model: engine tests run real engines. CORS is open, so a page may call it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>/v1` */
  baseUrl: string;
  close(): Promise<void>;
}

/** A stand-in for a model's speed: each reply waits this long and reports it as llama.cpp's `timings`. */
export interface Pace {
  prefillMs: number;
  decodeMs: number;
}

export async function startScriptedOpenAi(reply: (messages: readonly ChatMessage[]) => string, pace?: Pace): Promise<ScriptedServer> {
  const server = createServer((req, res) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Allow-Headers', 'content-type, authorization');
    if (req.method === 'OPTIONS') return void res.writeHead(204).end();
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const { messages } = JSON.parse(raw) as { messages: ChatMessage[] };
      const send = () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: reply(messages) } }] })}\n\n`);
        const timings = pace && { prompt_ms: pace.prefillMs, predicted_ms: pace.decodeMs };
        res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }], usage: { prompt_tokens: 100, completion_tokens: 10 }, timings })}\n\n`);
        res.end('data: [DONE]\n\n');
      };
      if (pace) setTimeout(send, pace.prefillMs + pace.decodeMs);
      else send();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

/** Whether the conversation already holds retrieved passages (the agent appends them as <information>). */
export const hasSearched = (messages: readonly ChatMessage[]) => messages.some((m) => m.content.startsWith('<information>'));
