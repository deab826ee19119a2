/**
 * A proxy on 127.0.0.1 in front of a real server that fails on purpose: each queued fault answers one
 * request in the server's stead (a 429 with Retry-After, a 500, a connection dropped before any answer),
 * then requests pass through again. For testing retries against what the server really answers.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = { status: number; retryAfter?: string; body?: string } | { drop: true };

export interface FaultProxy {
  url: string;
  /** Faults still to come, first first; push to queue more. */
  faults: Fault[];
  /** Requests seen, faults included. */
  requests: number;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const proxy: FaultProxy = { url: '', faults: [], requests: 0, close: async () => {} };
  const server = createServer((req, res) => {
    proxy.requests++;
    const fault = proxy.faults.shift();
    if (fault && 'drop' in fault) return void req.socket.destroy();
    if (fault) {
      req.resume();
      return void res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter !== undefined && { 'retry-after': fault.retryAfter }) }).end(fault.body ?? JSON.stringify({ error: { message: `injected HTTP ${fault.status}` } }));
    }
    const forward = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}
