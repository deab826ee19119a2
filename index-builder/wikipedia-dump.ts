/**
 * Streams a MediaWiki XML export (`pages-articles.xml.bz2`, or uncompressed) into plain-text articles:
 * bz2 decoding (unbzip2-stream) -> SAX parsing (saxes) -> wikitext to text (wtf_wikipedia).
 *
 * Memory stays bounded whatever the dump's size: the file is read only as fast as the consumer pulls
 * articles (stream backpressure), and besides the page being read only the pages of one small slice
 * of XML wait to be yielded. saxes does hold a whole `<text>` node until it ends; MediaWiki caps a
 * revision at 2 MB, so that is one page's worth.
 *
 * Skips are reported in the generator's return value (`DumpStats`): every page read is counted in
 * `pages`, every page dropped for a `SkipReason` in `skipped`; pages not in `titles` are the rest.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, addAbortSignal, pipeline } from 'node:stream';
import { setImmediate } from 'node:timers/promises';
import { SaxesParser } from 'saxes';
import bz2 from 'unbzip2-stream';
import wtf from 'wtf_wikipedia';
import { errorMessage } from '../src/core/util/error-message.ts';

export interface WikiArticle {
  title: string;
  text: string;
}

export type SkipReason = 'not an article' | 'redirect' | 'too large' | 'empty';

export interface DumpStats {
  pages: number;
  accepted: number;
  skipped: Record<SkipReason, number>;
}

export interface DumpOptions {
  /** Keep only these titles (underscores and spaces are the same; outer spaces do not count). */
  titles?: ReadonlySet<string>;
  /** Stop after this many articles, and stop reading the file. */
  limit?: number;
  /** Aborting throws `signal.reason` from the generator and closes the file. */
  signal?: AbortSignal;
  /** Bytes of the file (compressed, for a .bz2) read so far, for a progress bar. */
  onBytes?: (bytes: number) => void;
}

/** Longer wikitext is a list or a data page, not prose worth passages, and slow to parse; it is skipped. */
const MAX_WIKITEXT_BYTES = 5 * 1024 * 1024;
/** saxes is fed this many characters at a time, so a decoded bz2 block's pages never pile up. */
const SLICE_CHARS = 64 * 1024;

interface RawPage {
  title: string;
  ns: string;
  redirect: boolean;
  text: string;
}

interface DumpText {
  chunks: AsyncIterator<string>;
  close(): void;
}

type Field = 'title' | 'ns' | 'text';

const normalTitle = (title: string) => title.replace(/_/g, ' ').trim();

/** Yields articles in dump order; returns the counts of what was read and why pages were skipped. */
export async function* readWikipediaDump(path: string, options: DumpOptions = {}): AsyncGenerator<WikiArticle, DumpStats> {
  const { signal, limit } = options;
  signal?.throwIfAborted();
  const stats: DumpStats = { pages: 0, accepted: 0, skipped: { 'not an article': 0, redirect: 0, 'too large': 0, empty: 0 } };
  if (limit !== undefined && limit <= 0) return stats;
  const titles = options.titles && new Set([...options.titles].map(normalTitle));
  const dump = await openDump(path, options);
  try {
    for await (const page of rawPages(dump, path, signal)) {
      // Buffered pages resolve as microtasks, so without this a busy reader would starve timers and
      // signals (Ctrl-C) until its buffer ran dry; wtf's parse dwarfs the cost.
      await setImmediate();
      signal?.throwIfAborted();
      stats.pages++;
      const article = accept(page, titles, stats);
      if (!article) continue;
      stats.accepted++;
      yield article;
      if (limit !== undefined && stats.accepted >= limit) break;
    }
    return stats;
  } finally {
    dump.close();
  }
}

/** The `<page>` elements of the dump, parsed a slice at a time as the consumer asks for them. */
async function* rawPages(dump: DumpText, path: string, signal: AbortSignal | undefined): AsyncGenerator<RawPage> {
  const pages: RawPage[] = [];
  const parser = pageParser(path, (page) => pages.push(page));
  for (let chunk = await nextChunk(dump, path, signal); chunk !== null; chunk = await nextChunk(dump, path, signal)) {
    for (let at = 0; at < chunk.length; at += SLICE_CHARS) {
      write(parser, chunk.slice(at, at + SLICE_CHARS));
      yield* pages.splice(0);
    }
  }
  try {
    parser.close();
  } catch (error) {
    throw new Error(`the dump ends early or is corrupt: ${errorMessage(error)}`);
  }
}

/** The next text chunk, or null at the end; a broken stream (a cut-off bz2 file) becomes one clear error. */
async function nextChunk(dump: DumpText, path: string, signal: AbortSignal | undefined): Promise<string | null> {
  try {
    const next = await dump.chunks.next();
    return next.done ? null : next.value;
  } catch (error) {
    signal?.throwIfAborted();
    throw new Error(`cannot read ${path}: the dump ends early or is corrupt (${errorMessage(error)})`);
  }
}

function accept(page: RawPage, titles: Set<string> | undefined, stats: DumpStats): WikiArticle | null {
  const skip = (reason: SkipReason) => {
    stats.skipped[reason]++;
    return null;
  };
  if (page.ns !== '0') return skip('not an article');
  const title = normalTitle(page.title);
  if (titles && !titles.has(title)) return null;
  // Localised dumps write #WEITERLEITUNG etc.; the <redirect> element covers those.
  if (page.redirect || /^\s*#redirect/i.test(page.text)) return skip('redirect');
  if (Buffer.byteLength(page.text) > MAX_WIKITEXT_BYTES) return skip('too large');
  const text = wtf(page.text).text().replace(/\s+/g, ' ').trim();
  return text ? { title, text } : skip('empty');
}

function write(parser: SaxesParser, chunk: string): void {
  try {
    parser.write(chunk);
  } catch (error) {
    throw new Error(`the dump is not well-formed XML: ${errorMessage(error)}`);
  }
}

/** Collects `<page>` elements: title, namespace, redirect flag and the last revision's wikitext. */
function pageParser(path: string, onPage: (page: RawPage) => void): SaxesParser {
  // Errors then read "<path>:<line>:<column>: <what>" (lines of the decoded XML).
  const parser = new SaxesParser({ fileName: path });
  let page: RawPage | null = null;
  let field: Field | null = null;
  parser.on('opentag', (tag) => {
    if (tag.name === 'page') page = { title: '', ns: '', redirect: false, text: '' };
    else if (page && tag.name === 'redirect') page.redirect = true;
    else if (page && (tag.name === 'title' || tag.name === 'ns' || tag.name === 'text')) {
      field = tag.name;
      // A history dump has one <text> per revision, oldest first: the last one is the page.
      if (field === 'text') page.text = '';
    }
  });
  const append = (text: string) => {
    if (page && field) page[field] += text;
  };
  parser.on('text', append);
  parser.on('cdata', append);
  parser.on('closetag', (tag) => {
    if (tag.name === field) field = null;
    if (tag.name === 'page' && page) {
      onPage(page);
      page = null;
    }
  });
  return parser;
}

/** The file as UTF-8 text chunks, bz2-decoded when it starts with the bz2 magic (whatever its name). */
async function openDump(path: string, { signal, onBytes }: DumpOptions): Promise<DumpText> {
  const compressed = await isBzip2(path);
  const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  let read = 0;
  // A second 'data' listener does not defeat backpressure: pipe's pause() stops the stream for both.
  if (onBytes) raw.on('data', (chunk) => onBytes((read += chunk.length)));
  const out = new PassThrough({ encoding: 'utf8' });
  // pipeline destroys every stream on the first error; the reader's next chunk then throws it.
  const ignore = () => {};
  if (compressed) pipeline(raw, bz2(), out, ignore);
  else pipeline(raw, out, ignore);
  if (signal) addAbortSignal(signal, out);
  return {
    chunks: out[Symbol.asyncIterator](),
    close: () => {
      out.destroy();
      raw.destroy();
    },
  };
}

async function isBzip2(path: string): Promise<boolean> {
  const file = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await file.read(Buffer.alloc(3), 0, 3, 0);
    return bytesRead === 3 && buffer.toString('latin1') === 'BZh';
  } finally {
    await file.close();
  }
}

