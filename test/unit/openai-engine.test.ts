/**
 * Adapter-protocol tests of the OpenAI-compatible engine against a local HTTP server on 127.0.0.1 that
 * speaks the streaming chat-completions protocol as llama.cpp's server does. They check our side of the
 * wire (request body, SSE parsing, reasoning re-insertion, errors, abort), not a model.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineError } from '../../src/core/agent/engine.ts';
import { OpenAiEngine, validateBaseUrl } from '../../src/engines/openai.ts';

type Handler = (body: Record<string, unknown>, res: ServerResponse) => void;
let handler: Handler = () => undefined;
let lastBody: Record<string, unknown> = {};
let server: Server;
let baseUrl = '';

const sse = (res: ServerResponse, events: (object | string)[], end = true): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const e of events) res.write(`data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`);
  if (end) res.end('data: [DONE]\n\n');
};
const delta = (content: string) => ({ choices: [{ delta: { content } }] });

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      lastBody = JSON.parse(raw) as Record<string, unknown>;
      handler(lastBody, res);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

const engine = () => new OpenAiEngine({ baseUrl, model: 'qwen3-32b', apiKey: 'k' });
const messages = [{ role: 'user' as const, content: 'Who wrote Hamlet?' }];

describe('OpenAI-compatible engine', () => {
  it('streams deltas and sends stop, max tokens, grammar and thinking in the request', async () => {
    handler = (_b, res) => sse(res, [delta('<search>Ham'), delta('let author'), { choices: [], usage: { prompt_tokens: 12, completion_tokens: 5 }, timings: { prompt_ms: 3, predicted_ms: 9 } }]);
    const deltas: string[] = [];
    const result = await engine().generate({ messages, maxTokens: 64, stop: ['</search>'], grammar: 'root ::= "x"', thinking: false, temperature: 0, onText: (d) => deltas.push(d) });
    expect(result).toMatchObject({ text: '<search>Hamlet author', finishReason: 'stop', usage: { promptTokens: 12, completionTokens: 5 }, timings: { prefillMs: 3, decodeMs: 9 } });
    expect(deltas).toEqual(['<search>Ham', 'let author']);
    expect(lastBody).toMatchObject({ model: 'qwen3-32b', stream: true, max_tokens: 64, stop: ['</search>'], grammar: 'root ::= "x"', chat_template_kwargs: { enable_thinking: false }, temperature: 0 });
  });

  it('puts reasoning_content back as a <think> block before the content', async () => {
    handler = (_b, res) => sse(res, [{ choices: [{ delta: { reasoning_content: 'need the ' } }] }, { choices: [{ delta: { reasoning_content: 'author' } }] }, delta('<search>Hamlet</search>')]);
    const result = await engine().generate({ messages, maxTokens: 64 });
    expect(result.text).toBe('<think>need the author</think><search>Hamlet</search>');
  });

  it('skips a malformed chunk without losing the rest and reports a length finish', async () => {
    handler = (_b, res) => sse(res, [delta('a'), '{not json', { choices: 'nope' }, delta('b'), { choices: [{ delta: {}, finish_reason: 'length' }] }]);
    const result = await engine().generate({ messages, maxTokens: 2 });
    expect(result.text).toBe('ab');
    expect(result.finishReason).toBe('length');
  });

  it('turns an HTTP error into an EngineError with the server message', async () => {
    handler = (_b, res) => void res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'model not loaded' } }));
    await expect(engine().generate({ messages, maxTokens: 8 })).rejects.toThrow(/HTTP 500: model not loaded/);
    await expect(engine().generate({ messages, maxTokens: 8 })).rejects.toBeInstanceOf(EngineError);
  });

  it('stops mid-stream on abort and returns what came so far', async () => {
    handler = (_b, res) => sse(res, [delta('partial ')], false); // the server never finishes
    const controller = new AbortController();
    const result = await engine().generate({ messages, maxTokens: 8, signal: controller.signal, onText: () => controller.abort() });
    expect(result).toMatchObject({ text: 'partial ', finishReason: 'abort' });
  });

  it('rejects malformed server URLs and an unreachable server with clear errors', async () => {
    expect(() => validateBaseUrl('localhost:8080')).toThrow(/http:\/\/ or https:\/\//);
    expect(() => validateBaseUrl('not a url')).toThrow(/is not a URL/);
    expect(validateBaseUrl('http://127.0.0.1:8080/v1/')).toBe('http://127.0.0.1:8080/v1');
    const closed = new OpenAiEngine({ baseUrl: 'http://127.0.0.1:9/v1', model: 'm' });
    await expect(closed.generate({ messages, maxTokens: 8 })).rejects.toThrow(/could not reach http:\/\/127.0.0.1:9\/v1/);
  });
});
