/**
 * Fetches byte ranges of big index files by HTTP Range requests, so a query reads only what it needs (a
 * dictionary page, one term's postings, a block of passages). Each range is verified against the checksum
 * that already-verified metadata holds for it and cached for offline use; unverified bytes never come back.
 */
import { MAX_SHARD_BYTES, type ShardFile } from '../core/index/index-manifest.ts';
import type { FetchFileRange } from './byte-codec.ts';
import { sha256Hex } from './checksum.ts';
import { joinBytes } from './shard-codec.ts';
import type { ShardCache } from './shard-source.ts';

export interface ByteRange {
  /** A bare file name, resolved against the index's folder. */
  path: string;
  offset: number;
  length: number;
  /** The first 8 bytes of the range's SHA-256, as 16 lower-case hex characters (see rangeChecksum). */
  checksum: string;
}

/** The bytes may be shared with concurrent callers of the same range: treat them as read-only. */
export type FetchRange = (range: ByteRange) => Promise<Uint8Array>;

export interface RangeSourceOptions {
  /** The folder the index metadata came from; range paths are resolved against it. */
  base: URL;
  cache?: ShardCache;
  fetch?: typeof fetch;
  signal?: AbortSignal;
  /**
   * Once per range loaded: its size and whether the cache had it. Callers that join a load already in
   * flight add nothing, so the sum over `fromCache: false` is what a query cost the network.
   */
  onFetched?: (bytes: number, fromCache: boolean) => void;
}

/** A range lies inside one index file, which is never larger than this; a longer range is a metadata
 * bug, not something to download. */
export const MAX_RANGE_BYTES = MAX_SHARD_BYTES;

/** The query parameter that carries a range in its cache key. */
const RANGE_PARAM = 'sdg-range';

export async function rangeChecksum(bytes: Uint8Array): Promise<string> {
  return (await sha256Hex(bytes)).slice(0, 16);
}

export function rangeSource(options: RangeSourceOptions): FetchRange {
  const { base, cache, signal, onFetched } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const inFlight = new Map<string, Promise<Uint8Array>>();

  const load = async (url: string, key: string, range: ByteRange): Promise<Uint8Array> => {
    const cached = await cache?.get(key);
    if (cached && (await problemWith(cached, range)) === null) {
      onFetched?.(cached.byteLength, true);
      return cached;
    }
    if (cached) await cache?.delete(key);
    const bytes = await fetchVerified(url, range, fetchImpl, signal);
    await cache?.put(key, bytes);
    onFetched?.(bytes.byteLength, false);
    return bytes;
  };

  return async (range) => {
    checkRange(range);
    const url = new URL(range.path, base);
    const key = cacheKey(url, range);
    let pending = inFlight.get(key);
    if (!pending) {
      pending = load(url.href, key, range).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  };
}

/** Ranges that name a file by its place in `files`, fetched by its name. */
export function inFiles(files: readonly ShardFile[], fetchRange: FetchRange): FetchFileRange {
  return ({ file, offset, length, checksum }) => {
    const shard = files[file];
    if (!shard) return Promise.reject(new Error(`the index points at file ${file} of ${files.length}`));
    if (offset + length > shard.bytes) return Promise.reject(new Error(`the index points past the end of ${shard.path}`));
    return fetchRange({ path: shard.path, offset, length, checksum });
  };
}

function checkRange({ path, offset, length, checksum }: ByteRange): void {
  const placed = Number.isSafeInteger(offset) && offset >= 0 && Number.isSafeInteger(offset + length);
  const sized = Number.isInteger(length) && length >= 1 && length <= MAX_RANGE_BYTES;
  if (placed && sized && /^[0-9a-f]{16}$/.test(checksum)) return;
  throw new Error(
    `invalid byte range of index file ${path}: offset ${offset}, length ${length}, checksum ${checksum} (expected a whole offset ≥ 0, a length of 1 byte to 64 MiB and 16 lower-case hex digits)`,
  );
}

/**
 * The range goes into the query, since the Cache API ignores fragments; cache-storage.ts moves the
 * checksum there too. With both in the key a rebuilt index never reads an older build's bytes, and two
 * builds' ranges at the same place are kept side by side.
 */
function cacheKey(url: URL, range: ByteRange): string {
  const keyed = new URL(url);
  keyed.searchParams.set(RANGE_PARAM, `${range.offset}-${range.length}`);
  return `${keyed.href}#sha256=${range.checksum}`;
}

async function fetchVerified(url: string, range: ByteRange, fetchImpl: typeof fetch, signal?: AbortSignal): Promise<Uint8Array> {
  let problem = '';
  // A second attempt bypasses the HTTP cache: a proxy or an interrupted earlier download may have left
  // bad bytes there.
  for (const httpCache of ['default', 'reload'] as const) {
    const init: RequestInit = { cache: httpCache, headers: { Range: `bytes=${range.offset}-${lastByte(range)}` }, ...(signal && { signal }) };
    const bytes = await download(url, range, fetchImpl, init);
    problem = (await problemWith(bytes, range)) ?? '';
    if (!problem) return bytes;
  }
  throw new Error(`index file ${range.path} bytes ${span(range)} are corrupt (${problem}), also when fetched again; rebuild or re-upload the index`);
}

async function problemWith(bytes: Uint8Array, range: ByteRange): Promise<string | null> {
  if (bytes.byteLength < range.length) return `the body ended after ${bytes.byteLength} of its ${range.length} bytes`;
  if (bytes.byteLength > range.length) return `more than its ${range.length} bytes arrived`;
  const checksum = await rangeChecksum(bytes);
  return checksum === range.checksum ? null : `SHA-256 ${checksum}…, expected ${range.checksum}…`;
}

async function download(url: string, range: ByteRange, fetchImpl: typeof fetch, init: RequestInit): Promise<Uint8Array> {
  const response = await fetchImpl(url, init);
  if (response.status === 206) {
    const sent = wrongContentRange(response, range);
    if (sent) throw await refuse(response, range, `the server sent ${sent}`);
    // One byte more than asked, so an oversized body fails the size check.
    return readSpan(response.body, 0, range.length + 1);
  }
  // A server (or proxy) that ignores Range sends the whole file: read up to the range and no further.
  if (response.status === 200) return readSpan(response.body, range.offset, range.length);
  throw await refuse(response, range, `HTTP ${response.status}`);
}

/**
 * The Content-Range of a 206 when it is not the range asked. Cross-origin the header is readable only if
 * the server lists it in Access-Control-Expose-Headers; where it is hidden, a wrong range still fails the
 * length or checksum check.
 */
function wrongContentRange(response: Response, range: ByteRange): string | null {
  const header = response.headers.get('content-range');
  if (header === null) return null;
  const match = /^bytes (\d+)-(\d+)\//i.exec(header.trim());
  return match && Number(match[1]) === range.offset && Number(match[2]) === lastByte(range) ? null : header;
}

/** Cancels the unread body, which would otherwise hold its connection, and says what went wrong. */
async function refuse(response: Response, range: ByteRange, reason: string): Promise<Error> {
  await response.body?.cancel();
  return new Error(`could not fetch index file ${range.path} (bytes ${span(range)}): ${reason}`);
}

/** Skips `skip` bytes of a body, keeps the next `take` and cancels the rest unread. */
async function readSpan(body: ReadableStream<Uint8Array> | null, skip: number, take: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  const end = skip + take;
  let position = 0;
  while (position < end) {
    const { done, value } = await reader.read();
    if (done) return joinBytes(chunks);
    const from = Math.max(skip - position, 0);
    const to = Math.min(end - position, value.byteLength);
    if (to > from) chunks.push(value.subarray(from, to));
    position += value.byteLength;
  }
  await reader.cancel();
  return joinBytes(chunks);
}

function lastByte(range: ByteRange): number {
  return range.offset + range.length - 1;
}

function span(range: ByteRange): string {
  return `${range.offset}–${lastByte(range)}`;
}
