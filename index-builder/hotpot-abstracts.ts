/**
 * Streams HotpotQA's own Wikipedia corpus as it is distributed,
 * `enwiki-20171001-pages-meta-current-withlinks-abstracts.tar.bz2` (1.55 GB, 5,233,329 intro paragraphs):
 * bz2 decoding (unbzip2-stream) -> tar parsing (tar-stream) -> each member (`<root>/AA/wiki_00.bz2`, …)
 * bz2-decoded again -> JSON lines, one article a line.
 *
 * A line is `{id, url, title, text, charoffset, text_with_links, charoffset_with_links}`. `text` is the
 * plain sentences, each after the first carrying its own leading space, so joining them restores the
 * paragraph; `text_with_links` is the same sentences with `<a href="percent%20encoded">anchor</a>`
 * links. Titles and text are HTML-escaped, as WikiExtractor writes them (`Merck &amp; Co.`).
 *
 * Memory stays bounded whatever the archive's size: the file is read only as fast as the consumer pulls
 * articles (stream backpressure through every layer), and no line is kept past MAX_LINE_CHARS.
 */
import { open } from 'node:fs/promises';
import { PassThrough, Transform, pipeline, type Writable } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { extract, type Extract, type ExtractEvents, type Header } from 'tar-stream';
import bz2 from 'unbzip2-stream';
import { z } from 'zod';
import { parseJsonLine } from '../src/core/index/corpus.ts';
import { errorMessage } from '../src/core/util/error-message.ts';

export interface AbstractsStats {
  /** Members read (`.bz2` files of the archive). */
  members: number;
  /** Lines read in them, blank ones included. */
  lines: number;
  /** Articles yielded. */
  articles: number;
  /** Lines dropped, where and why; blank lines are not listed. */
  skipped: { member: string; line: number; reason: string }[];
}

export interface AbstractsOptions {
  /** Aborting throws `signal.reason` from the generator and closes the file. */
  signal?: AbortSignal;
  /** Bytes of the archive (compressed) read so far, for a progress bar. */
  onBytes?: (compressedBytesRead: number) => void;
  /** Stop after this many articles, and stop reading the file. */
  limit?: number;
}

/** An abstract's line is a few kilobytes (its character offsets are most of it); longer is not one. */
const MAX_LINE_CHARS = 1_000_000;
const READ_CHUNK_BYTES = 256 * 1024;

const AbstractLine = z.object({ title: z.string(), text: z.array(z.string()) });

/** WikiExtractor keeps links as anchors and no other markup. */
const LINK_TAG = /<a\s[^>]*>|<\/a>/gi;
/** What an HTML escaper writes (WikiExtractor expanded the wikitext's own entities before escaping). */
const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

type Article = { title: string; text: string };
/** A tar entry: its header and a readable of its bytes. */
type Entry = ExtractEvents['entry'][1];

interface Archive {
  /** The next tar entry, or null after the last. */
  next(): Promise<Member | null>;
  close(reason?: unknown): void;
}

interface Member {
  header: Header;
  /** The member's text lines, bz2-decoded when they start with the bz2 magic. */
  lines(): AsyncGenerator<string>;
  /** Skips the member's bytes, so that the next entry can come. */
  skip(): void;
}

export function isHotpotAbstracts(path: string): boolean {
  return /\.tar(\.bz2)?$/i.test(path);
}

/** Yields articles in archive order; returns what was read and where lines were skipped. */
export async function* readHotpotAbstracts(path: string, options: AbstractsOptions = {}): AsyncGenerator<Article, AbstractsStats> {
  const { signal, limit } = options;
  signal?.throwIfAborted();
  const stats: AbstractsStats = { members: 0, lines: 0, articles: 0, skipped: [] };
  if (limit !== undefined && limit <= 0) return stats;
  const archive = await openArchive(path, options);
  const onAbort = () => archive.close(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (let member = await archive.next(); member; member = await archive.next()) {
      if (!isArticleFile(member.header)) {
        member.skip();
        continue;
      }
      stats.members++;
      let line = 0;
      for await (const raw of member.lines()) {
        stats.lines++;
        line++;
        const article = parseArticle(raw);
        if (article === null) continue;
        if ('error' in article) {
          stats.skipped.push({ member: member.header.name, line, reason: article.error });
          continue;
        }
        // Buffered lines resolve as microtasks, so without this a fast consumer would starve timers and
        // signals (Ctrl-C) for a whole member.
        await setImmediate();
        signal?.throwIfAborted();
        stats.articles++;
        yield article;
        if (limit !== undefined && stats.articles >= limit) return stats;
      }
    }
    // An abort can end the streams as if the archive were done; that is not the end of the archive.
    signal?.throwIfAborted();
    return stats;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    archive.close();
  }
}

/** Directories, links and anything not named `.bz2` (a stray README, say) are not articles. */
function isArticleFile(header: Header): boolean {
  return header.type === 'file' && /\.bz2$/i.test(header.name);
}

/** The article of one line; null for a blank line; the reason when the line is dropped. */
function parseArticle(raw: string): Article | { error: string } | null {
  if (!raw.trim()) return null;
  const json = parseJsonLine(raw, MAX_LINE_CHARS);
  if ('error' in json) return json;
  const parsed = AbstractLine.safeParse(json.value);
  if (!parsed.success) return { error: 'not an abstract {title, text: [sentences]}' };
  const title = decodeEntities(parsed.data.title).trim();
  if (!title) return { error: 'no title' };
  // Tags go before entities are decoded: an escaped `&lt;a&gt;` is text, not a link.
  const text = decodeEntities(parsed.data.text.join('').replace(LINK_TAG, '')).replace(/\s+/g, ' ').trim();
  return text ? { title, text } : { error: 'empty text' };
}

function decodeEntities(text: string): string {
  return text.replace(/&(?:#(\d+)|#x([0-9a-f]+)|([a-z]+));/gi, (entity, decimal?: string, hex?: string, name?: string) => {
    if (name !== undefined) return NAMED_ENTITIES[name] ?? entity;
    const code = decimal !== undefined ? Number(decimal) : parseInt(hex ?? '', 16);
    return code <= 0x10ffff ? String.fromCodePoint(code) : entity;
  });
}

/** The tar entries of the file, bz2-decoded first when it starts with the bz2 magic (whatever its name). */
async function openArchive(path: string, { signal, onBytes }: AbstractsOptions): Promise<Archive> {
  // Opened first, so that a missing or unreadable file throws its own error, not "corrupt".
  const file = (await open(path, 'r')).createReadStream({ highWaterMark: READ_CHUNK_BYTES });
  const tar = extract();
  const entries = tar[Symbol.asyncIterator]();
  let text: PassThrough | null = null;
  const broken = (error: unknown, member?: string): Error => {
    signal?.throwIfAborted();
    const where = member ? `at ${member}: ` : '';
    return new Error(`cannot read ${path}: the archive ends early or is corrupt (${where}${errorMessage(error)})`);
  };
  // pipeline destroys every stream on the first error; the pending read then throws it.
  void decode(counted(file, onBytes), tar, { tar: true });
  return {
    next: async () => {
      text = null;
      try {
        const next = await entries.next();
        return next.done ? null : memberOf(next.value, broken, (opened) => (text = opened));
      } catch (error) {
        throw broken(error);
      }
    },
    close: (reason) => {
      const error = reason === undefined ? undefined : toError(reason);
      text?.destroy(error);
      tar.destroy(error);
      file.destroy(error);
    },
  };
}

function memberOf(entry: Entry, broken: (error: unknown, member: string) => Error, onOpen: (text: PassThrough) => void): Member {
  return {
    header: entry.header,
    skip: () => void entry.resume(),
    lines: async function* () {
      const text = new PassThrough({ encoding: 'utf8' });
      onOpen(text);
      void decode(entry, text);
      try {
        yield* lines(text, MAX_LINE_CHARS);
      } catch (error) {
        throw broken(error, entry.header.name);
      }
    },
  };
}

/**
 * Pipes `source` into `into`, through a bz2 decoder when its first bytes are the bz2 magic; a tar also
 * has its end checked on the way.
 */
async function decode(source: AsyncIterable<unknown>, into: Writable | Extract, { tar = false } = {}): Promise<void> {
  let sniffed;
  try {
    sniffed = await sniffBzip2(source[Symbol.asyncIterator]());
  } catch (error) {
    return void into.destroy(toError(error));
  }
  const decoder = sniffed.bzip2 ? bz2() : new PassThrough();
  // tar-stream's streamx Writable has the write/end/events that pipeline uses on Node's.
  const destination = into as Writable;
  const done = (error: Error | null) => {
    if (error) into.destroy(error);
  };
  if (tar) pipeline(sniffed.chunks, decoder, endOfArchive(), destination, done);
  else pipeline(sniffed.chunks, decoder, destination, done);
}

/**
 * Passes a tar's bytes on, then fails unless they ended with the two zero blocks every tar writer puts
 * last: without them the archive was cut at a member's end, which tar-stream takes for the end.
 */
function endOfArchive(): Transform {
  const END = 1024;
  let tail: Buffer = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      tail = chunk.length >= END ? chunk.subarray(-END) : Buffer.concat([tail, chunk]).subarray(-END);
      callback(null, chunk);
    },
    flush(callback) {
      callback(tail.length === END && tail.every((byte) => byte === 0) ? null : new Error('no end-of-archive blocks'));
    },
  });
}

/** Reads until the first three bytes are in: whether they are bz2's magic, and all the chunks again. */
async function sniffBzip2(chunks: AsyncIterator<unknown>): Promise<{ bzip2: boolean; chunks: AsyncGenerator<Buffer> }> {
  const head: Buffer[] = [];
  let ended = false;
  for (let size = 0; !ended && size < 3; ) {
    const next = await chunks.next();
    if (next.done) ended = true;
    else {
      const chunk = next.value as Buffer; // a file and a tar entry both read as Buffers
      head.push(chunk);
      size += chunk.length;
    }
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    if (ended) return;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value as Buffer;
  }
  return { bzip2: Buffer.concat(head).subarray(0, 3).toString('latin1') === 'BZh', chunks: all() };
}

/** The file's chunks, each reported as read so far. */
async function* counted(file: AsyncIterable<Buffer>, onBytes: ((bytes: number) => void) | undefined): AsyncGenerator<Buffer> {
  let read = 0;
  for await (const chunk of file) {
    read += chunk.length;
    onBytes?.(read);
    yield chunk;
  }
}

/** The text's lines; one over `max` characters comes out cut to `max + 1`, so the rest of it is never kept. */
async function* lines(text: AsyncIterable<string>, max: number): AsyncGenerator<string> {
  let pending = '';
  for await (const chunk of text) {
    let at = 0;
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', at)) {
      yield (pending + chunk.slice(at, end)).slice(0, max + 1);
      pending = '';
      at = end + 1;
    }
    pending = (pending + chunk.slice(at)).slice(0, max + 1);
  }
  if (pending) yield pending;
}

function toError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
