/**
 * Streams a MediaWiki XML export (`pages-articles.xml.bz2`, or uncompressed) into plain-text articles:
 * bz2 decoding (unbzip2-stream) -> SAX parsing (saxes) -> wikitext to text (wtf_wikipedia). Memory is
 * bounded by one page: the consumer pulls articles, and the file is read only as fast as it does.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { PassThrough, pipeline } from 'node:stream';
import { SaxesParser } from 'saxes';
import bz2 from 'unbzip2-stream';
import wtf from 'wtf_wikipedia';

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
  /** Keep only these titles (underscores and spaces are the same). */
  titles?: ReadonlySet<string>;
  /** Stop after this many articles. */
  limit?: number;
  signal?: AbortSignal;
  /** Bytes of the (compressed) file read so far, for a progress bar. */
  onBytes?: (bytes: number) => void;
}

/** Longer wikitext is a list or a data page, not prose worth passages; it is skipped unparsed. */
const MAX_WIKITEXT_CHARS = 5_000_000;

interface RawPage {
  title: string;
  ns: string;
  redirect: boolean;
  text: string;
  tooLarge: boolean;
}

const normalTitle = (title: string) => title.replace(/_/g, ' ').trim();

/** Yields articles; returns the counts of what was read and why pages were skipped. */
export async function* readWikipediaDump(path: string, options: DumpOptions = {}): AsyncGenerator<WikiArticle, DumpStats> {
  const stats: DumpStats = { pages: 0, accepted: 0, skipped: { 'not an article': 0, redirect: 0, 'too large': 0, empty: 0 } };
  const titles = options.titles && new Set([...options.titles].map(normalTitle));
  const pages: RawPage[] = [];
  const parser = pageParser((page) => pages.push(page));
  const chunks = textStream(path, options)[Symbol.asyncIterator]();
  for (let chunk = await nextChunk(chunks, path); chunk !== null; chunk = await nextChunk(chunks, path)) {
    options.signal?.throwIfAborted();
    write(parser, chunk);
    for (const page of pages.splice(0)) {
      stats.pages++;
      const article = accept(page, titles, stats);
      if (!article) continue;
      stats.accepted++;
      yield article;
      if (options.limit !== undefined && stats.accepted >= options.limit) {
        await chunks.return?.();
        return stats;
      }
    }
  }
  try {
    parser.close();
  } catch (error) {
    throw new Error(`the dump ends early or is corrupt: ${error instanceof Error ? error.message : String(error)}`);
  }
  return stats;
}

/** The next text chunk, or null at the end; a broken stream (a cut-off bz2 file) becomes one clear error. */
async function nextChunk(chunks: AsyncIterator<string>, path: string): Promise<string | null> {
  try {
    const next = await chunks.next();
    return next.done ? null : next.value;
  } catch (error) {
    throw new Error(`cannot read ${path}: the dump ends early or is corrupt (${error instanceof Error ? error.message : String(error)})`);
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
  if (page.redirect || /^\s*#redirect/i.test(page.text)) return skip('redirect');
  if (page.tooLarge) return skip('too large');
  const text = wtf(page.text).text().replace(/\s+/g, ' ').trim();
  return text ? { title, text } : skip('empty');
}

function write(parser: SaxesParser, chunk: string): void {
  try {
    parser.write(chunk);
  } catch (error) {
    throw new Error(`the dump is not well-formed XML: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Collects `<page>` elements: title, namespace, redirect flag and the revision's wikitext. */
function pageParser(onPage: (page: RawPage) => void): SaxesParser {
  const parser = new SaxesParser();
  let page: RawPage | null = null;
  let field: 'title' | 'ns' | 'text' | null = null;
  parser.on('opentag', (tag) => {
    if (tag.name === 'page') page = { title: '', ns: '', redirect: false, text: '', tooLarge: false };
    else if (page && tag.name === 'redirect') page.redirect = true;
    else if (page && (tag.name === 'title' || tag.name === 'ns' || tag.name === 'text')) field = tag.name;
  });
  parser.on('text', (text) => appendText(page, field, text));
  parser.on('cdata', (text) => appendText(page, field, text));
  parser.on('closetag', (tag) => {
    if (tag.name === field) field = null;
    if (tag.name === 'page' && page) {
      onPage(page);
      page = null;
    }
  });
  return parser;
}

function appendText(page: RawPage | null, field: 'title' | 'ns' | 'text' | null, text: string): void {
  if (!page || !field) return;
  if (field !== 'text') return void (page[field] += text);
  if (page.tooLarge) return;
  page.text += text;
  if (page.text.length > MAX_WIKITEXT_CHARS) [page.text, page.tooLarge] = ['', true];
}

/** The file as UTF-8 text chunks, bz2-decoded when it starts with the bz2 magic (whatever its name). */
function textStream(path: string, options: DumpOptions): PassThrough {
  const raw = createReadStream(path, { highWaterMark: 256 * 1024 });
  let read = 0;
  raw.on('data', (chunk) => options.onBytes?.((read += chunk.length)));
  const out = new PassThrough({ encoding: 'utf8' });
  // pipeline destroys `out` with the first error, which the reader's next chunk then throws.
  const ignore = () => {};
  if (isBzip2(path)) pipeline(raw, bz2(), out, ignore);
  else pipeline(raw, out, ignore);
  return out;
}

function isBzip2(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(3);
    return readSync(fd, magic, 0, 3, 0) === 3 && magic.toString('latin1') === 'BZh';
  } finally {
    closeSync(fd);
  }
}
