/** A Search-R1 /retrieve server on 127.0.0.1 answering one passage (`remote-1`), or HTTP 500 when `failing`. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function startRetrievalServer(failing = false): Promise<{ url: string; close: () => void }> {
  const server = createServer((_, res) => {
    if (failing) return void res.writeHead(500).end('index not loaded');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ result: [[{ document: { id: 'remote-1', contents: '"Remote"\ntext' }, score: 1 }]] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}
