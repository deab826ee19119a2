/**
 * Byte ranges of index files over real HTTP: a local server that honours Range, and servers that ignore
 * it, corrupt bytes, cut bodies short or fail; through fileFetch on disk; and through both caches.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fileFetch } from '../../index-builder/file-fetch.ts';
import { shardCacheOn } from '../../src/retrieval/cache-storage.ts';
import { MAX_RANGE_BYTES, rangeChecksum, rangeSource, type ByteRange, type RangeSourceOptions } from '../../src/retrieval/range-source.ts';
import type { ShardCache } from '../../src/retrieval/shard-source.ts';

const FILE = 'postings-000.bin';
/** The served file is virtual, made on demand, so a server that ignores Range can stream 64 MiB cheaply. */
const FILE_BYTES = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;

/** Bytes [start, end) of the served file; `build` stands for a rebuilt index with other contents. */
function fileBytes(start: number, end: number, build = 1): Uint8Array {
  return Uint8Array.from({ length: end - start }, (_, k) => Math.imul(start + k + build * 7919, 2654435761) >>> 24);
}

/** A copy with its middle byte flipped. */
function corrupted(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  const middle = copy.length >> 1;
  copy[middle] = (copy[middle] ?? 0) ^ 0xff;
  return copy;
}

function checksumOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

function rangeOf(offset: number, length: number, build = 1): { range: ByteRange; bytes: Uint8Array } {
  const bytes = fileBytes(offset, offset + length, build);
  return { range: { path: FILE, offset, length, checksum: checksumOf(bytes) }, bytes };
}

interface Seen {
  mode: string;
  range: string | undefined;
  cacheControl: string | undefined;
}

/**
 * One server, its behaviour chosen by the first path segment: ranged (206 with Content-Range),
 * unlabelled (206 without it), ignores-range (200 and the whole file), corrupt-once, corrupt, missing
 * (404), short (half the body), long (a byte more, unlabelled) and wrong-range (the next byte's range,
 * honestly labelled).
 */
class TestServer {
  readonly seen: Seen[] = [];
  build = 1;
  /** Bytes the ignores-range mode wrote before the client hung up, and when it did. */
  written = 0;
  closed: Promise<unknown> = Promise.resolve();
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  async start(): Promise<void> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  base(mode: string): URL {
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${mode}/`);
  }

  requests(mode: string): Seen[] {
    return this.seen.filter((s) => s.mode === mode);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [, mode = '', name = ''] = new URL(req.url ?? '/', 'http://x').pathname.split('/');
    this.seen.push({ mode, range: req.headers.range, cacheControl: req.headers['cache-control'] });
    const asked = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (mode === 'missing' || name !== FILE) return void res.writeHead(404).end('not found');
    if (mode === 'ignores-range' || !asked) return this.streamWhole(res);
    const shift = mode === 'wrong-range' ? 1 : 0;
    const first = Number(asked[1]) + shift;
    const last = Number(asked[2]) + shift + (mode === 'long' ? 1 : 0);
    let body = fileBytes(first, last + 1, this.build);
    if (mode === 'corrupt' || (mode === 'corrupt-once' && this.requests(mode).length === 1)) body = corrupted(body);
    if (mode === 'short') body = body.subarray(0, body.length >> 1);
    const headers = mode === 'unlabelled' || mode === 'long' ? {} : { 'Content-Range': `bytes ${first}-${last}/${FILE_BYTES}` };
    res.writeHead(206, headers).end(body);
  }

  /** The whole file, chunk by chunk as the client takes them, stopping when it hangs up. */
  private async streamWhole(res: ServerResponse): Promise<void> {
    this.written = 0;
    this.closed = once(res, 'close');
    res.writeHead(200, { 'Content-Length': String(FILE_BYTES) });
    for (let at = 0; at < FILE_BYTES && !res.destroyed; at += CHUNK) {
      this.written += CHUNK;
      if (!res.write(fileBytes(at, at + CHUNK, this.build))) await Promise.race([once(res, 'drain'), this.closed]);
    }
    res.end();
  }
}

/** A ShardCache in memory that copies in and out, as a real store does, and records its deletes. */
class MemoryCache implements ShardCache {
  readonly store = new Map<string, Uint8Array>();
  readonly deleted: string[] = [];

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.store.get(key)?.slice();
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.store.set(key, bytes.slice());
  }

  async delete(key: string): Promise<void> {
    this.deleted.push(key);
    this.store.delete(key);
  }
}

/** The slice of the Cache API that shardCacheOn uses, in memory (as in cache-storage.test.ts). */
class FakeCache {
  readonly store = new Map<string, Uint8Array>();

  async match(url: string): Promise<Response | undefined> {
    const bytes = this.store.get(url);
    return bytes ? new Response(bytes.slice() as Uint8Array<ArrayBuffer>) : undefined;
  }

  async put(url: string, response: Response): Promise<void> {
    this.store.set(url, new Uint8Array(await response.arrayBuffer()));
  }

  async delete(url: string): Promise<boolean> {
    return this.store.delete(url);
  }
}

let server: TestServer;
beforeEach(async () => {
  server = new TestServer();
  await server.start();
});
afterEach(async () => server.stop());

function sourceOn(mode: string, options: Partial<RangeSourceOptions> = {}): { fetchRange: ReturnType<typeof rangeSource>; fetched: [number, boolean][] } {
  const fetched: [number, boolean][] = [];
  const fetchRange = rangeSource({ base: server.base(mode), onFetched: (bytes, fromCache) => void fetched.push([bytes, fromCache]), ...options });
  return { fetchRange, fetched };
}

describe('rangeChecksum', () => {
  it('is the first 8 bytes of the SHA-256, in lower-case hex', async () => {
    expect(await rangeChecksum(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea');
    const bytes = fileBytes(5, 5_005);
    expect(await rangeChecksum(bytes)).toBe(checksumOf(bytes));
  });
});

describe('rangeSource over HTTP', () => {
  it('asks for exactly the range and returns its bytes', async () => {
    const { range, bytes } = rangeOf(1_000, 100);
    const { fetchRange, fetched } = sourceOn('ranged');
    expect(await fetchRange(range)).toEqual(bytes);
    expect(server.seen).toEqual([{ mode: 'ranged', range: 'bytes=1000-1099', cacheControl: undefined }]);
    expect(fetched).toEqual([[100, false]]);
  });

  it('accepts a 206 whose Content-Range is not readable, on the strength of its checksum', async () => {
    const { range, bytes } = rangeOf(FILE_BYTES - 10, 10);
    expect(await sourceOn('unlabelled').fetchRange(range)).toEqual(bytes);
  });

  it('takes the range out of a whole-file 200 and hangs up on the rest', async () => {
    // Across a chunk boundary of the server's writes, a few MiB into the file.
    const { range, bytes } = rangeOf(50 * CHUNK - 300, 1_000);
    const { fetchRange, fetched } = sourceOn('ignores-range');
    expect(await fetchRange(range)).toEqual(bytes);
    expect(fetched).toEqual([[1_000, false]]);
    await server.closed;
    // Socket buffers let the server run ahead a few MiB; reading the whole body would reach all 64.
    expect(server.written).toBeLessThan(FILE_BYTES / 2);
  });

  it('fetches a corrupt range once more, past the HTTP cache, and returns it when it then verifies', async () => {
    const { range, bytes } = rangeOf(4_096, 512);
    expect(await sourceOn('corrupt-once').fetchRange(range)).toEqual(bytes);
    expect(server.seen.map((s) => s.cacheControl)).toEqual([undefined, 'no-cache']);
  });

  it('fails a range corrupt on both tries, naming the file and the bytes', async () => {
    const { range } = rangeOf(4_096, 512);
    const { fetchRange, fetched } = sourceOn('corrupt');
    await expect(fetchRange(range)).rejects.toThrow(
      new RegExp(`^index file ${FILE} bytes 4096–4607 are corrupt \\(SHA-256 [0-9a-f]{16}…, expected ${range.checksum}…\\), also when fetched again; rebuild or re-upload the index$`),
    );
    expect(server.seen).toHaveLength(2);
    expect(fetched).toEqual([]);
  });

  it('reports an HTTP error with the file, the range and the status, without retrying', async () => {
    const { range } = rangeOf(0, 10);
    await expect(sourceOn('missing').fetchRange(range)).rejects.toThrow(`could not fetch index file ${FILE} (bytes 0–9): HTTP 404`);
    expect(server.seen).toHaveLength(1);
  });

  it('fails a body shorter than the range, after one more try', async () => {
    const { range } = rangeOf(2_000, 100);
    await expect(sourceOn('short').fetchRange(range)).rejects.toThrow(
      `index file ${FILE} bytes 2000–2099 are corrupt (the body ended after 50 of its 100 bytes), also when fetched again`,
    );
    expect(server.seen).toHaveLength(2);
  });

  it('fails a body longer than the range, though its first bytes are right', async () => {
    const { range } = rangeOf(2_000, 100);
    await expect(sourceOn('long').fetchRange(range)).rejects.toThrow(`index file ${FILE} bytes 2000–2099 are corrupt (more than its 100 bytes arrived)`);
  });

  it('refuses a 206 labelled with another range', async () => {
    const { range } = rangeOf(2_000, 100);
    await expect(sourceOn('wrong-range').fetchRange(range)).rejects.toThrow(`could not fetch index file ${FILE} (bytes 2000–2099): the server sent bytes 2001-2100/${FILE_BYTES}`);
  });

  it('refuses an invalid range before any request', async () => {
    const { range } = rangeOf(0, 10);
    const { fetchRange } = sourceOn('ranged');
    const invalid: ByteRange[] = [
      { ...range, offset: -1 },
      { ...range, offset: 1.5 },
      { ...range, length: 0 },
      { ...range, length: 2.5 },
      { ...range, length: MAX_RANGE_BYTES + 1 },
      { ...range, checksum: range.checksum.toUpperCase() },
      { ...range, checksum: range.checksum.slice(1) },
    ];
    for (const bad of invalid) await expect(fetchRange(bad), JSON.stringify(bad)).rejects.toThrow(`invalid byte range of index file ${FILE}`);
    expect(server.seen).toEqual([]);
    expect(await fetchRange(range)).toHaveLength(10);
  });

  it('passes the abort signal to the request', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sourceOn('ranged', { signal: controller.signal }).fetchRange(rangeOf(0, 10).range)).rejects.toThrow(/abort/i);
    expect(server.seen).toEqual([]);
  });

  it('shares one request among concurrent asks for the same range, and forgets it once settled', async () => {
    const { range, bytes } = rangeOf(8_000, 300);
    const other = rangeOf(9_000, 300);
    const { fetchRange, fetched } = sourceOn('ranged');
    const results = await Promise.all([fetchRange(range), fetchRange({ ...range }), fetchRange(range), fetchRange(other.range)]);
    expect(results).toEqual([bytes, bytes, bytes, other.bytes]);
    expect(server.seen).toHaveLength(2);
    expect(fetched).toEqual([
      [300, false],
      [300, false],
    ]);
    await fetchRange(range);
    expect(server.seen).toHaveLength(3);
  });

  it('forgets a shared request that failed, so a later ask tries again', async () => {
    const { range } = rangeOf(0, 10);
    const { fetchRange } = sourceOn('missing');
    const failures = await Promise.allSettled([fetchRange(range), fetchRange(range)]);
    expect(failures.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    expect(server.seen).toHaveLength(1);
    await expect(fetchRange(range)).rejects.toThrow('HTTP 404');
    expect(server.seen).toHaveLength(2);
  });
});

describe('rangeSource with a cache', () => {
  it('serves a second read from the cache without a request', async () => {
    const cache = new MemoryCache();
    const { range, bytes } = rangeOf(1_000, 100);
    const { fetchRange, fetched } = sourceOn('ranged', { cache });
    expect(await fetchRange(range)).toEqual(bytes);
    expect(await fetchRange(range)).toEqual(bytes);
    expect(server.seen).toHaveLength(1);
    expect(fetched).toEqual([
      [100, false],
      [100, true],
    ]);
    expect([...cache.store.keys()]).toEqual([`${server.base('ranged').href}${FILE}?sdg-range=1000-100#sha256=${range.checksum}`]);
  });

  it('keeps two builds of a range side by side, each read by its own checksum', async () => {
    const cache = new MemoryCache();
    const { fetchRange } = sourceOn('ranged', { cache });
    const old = rangeOf(1_000, 100, 1);
    const rebuilt = rangeOf(1_000, 100, 2);
    await fetchRange(old.range);
    server.build = 2;
    expect(await fetchRange(rebuilt.range)).toEqual(rebuilt.bytes);
    expect(await fetchRange(old.range)).toEqual(old.bytes);
    expect(server.seen).toHaveLength(2);
  });

  it('drops a corrupted cache entry and fetches the range again', async () => {
    const cache = new MemoryCache();
    const { range, bytes } = rangeOf(1_000, 100);
    const { fetchRange, fetched } = sourceOn('ranged', { cache });
    await fetchRange(range);
    const [key = ''] = cache.store.keys();
    cache.store.set(key, corrupted(bytes));
    expect(await fetchRange(range)).toEqual(bytes);
    expect(cache.deleted).toEqual([key]);
    expect(cache.store.get(key)).toEqual(bytes);
    expect(server.seen).toHaveLength(2);
    expect(fetched).toEqual([
      [100, false],
      [100, false],
    ]);
  });

  it('keeps ranges in the Cache API under a key naming the range and its checksum', async () => {
    const fake = new FakeCache();
    const { range, bytes } = rangeOf(3_000, 200);
    const { fetchRange, fetched } = sourceOn('ranged', { cache: shardCacheOn(fake as unknown as Cache) });
    await fetchRange(range);
    const url = `${server.base('ranged').href}${FILE}?sdg-range=3000-200&sdg-sha256=${range.checksum}`;
    expect([...fake.store.keys()]).toEqual([url]);
    expect(await fetchRange(range)).toEqual(bytes);
    expect(server.seen).toHaveLength(1);
    fake.store.set(url, bytes.slice(1));
    expect(await fetchRange(range)).toEqual(bytes);
    expect(fake.store.get(url)).toEqual(bytes);
    expect(server.seen).toHaveLength(2);
    expect(fetched.map(([, fromCache]) => fromCache)).toEqual([false, true, false]);
  });
});

describe('fileFetch with Range', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sdg-range-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('reads only the range: a file past the 2 GiB readFile accepts still serves it', async () => {
    // A sparse 3 GiB file (no disk used) with real bytes beyond 2 GiB: reading it whole fails in Node.
    const offset = 2 ** 31 + 12_345;
    const { range, bytes } = rangeOf(offset, 4_000);
    const handle = await open(join(dir, FILE), 'w');
    await handle.truncate(3 * 2 ** 30);
    await handle.write(bytes, 0, bytes.length, offset);
    await handle.close();
    expect(await rangeSource({ base: pathToFileURL(`${dir}/`), fetch: fileFetch })(range)).toEqual(bytes);
  });

  it('answers 206 with Content-Range, clamps at the end, 416 past it, and the whole file without Range', async () => {
    const url = pathToFileURL(join(dir, FILE));
    await writeFile(url, fileBytes(0, 1_000));
    const part = await fileFetch(url, { headers: { Range: 'bytes=10-19' } });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, 'bytes 10-19/1000']);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(fileBytes(10, 20));
    const tail = await fileFetch(new Request(url, { headers: { Range: 'bytes=990-2000' } }));
    expect([tail.status, tail.headers.get('content-range'), (await tail.arrayBuffer()).byteLength]).toEqual([206, 'bytes 990-999/1000', 10]);
    const past = await fileFetch(url, { headers: { Range: 'bytes=1000-1009' } });
    expect([past.status, past.headers.get('content-range')]).toEqual([416, 'bytes */1000']);
    for (const init of [{}, { headers: { Range: 'bytes=-10' } }]) {
      const whole = await fileFetch(url, init);
      expect([whole.status, new Uint8Array(await whole.arrayBuffer())]).toEqual([200, fileBytes(0, 1_000)]);
    }
    expect((await fileFetch(pathToFileURL(join(dir, 'absent.bin')), { headers: { Range: 'bytes=0-9' } })).status).toBe(404);
  });
});
