/**
 * The lexical index's term dictionary, in two levels so that a query fetches only what its terms need:
 *
 *   dictionary file  := "SDGD" u8 version, varint pages, (string firstTerm, range) per page
 *   dictionary page  := varint terms, entry* in term order
 *   entry            := string term, varint df, u8 maxImpact, varint postingBytes,
 *                       (u8 0, postings inline) | (u8 1, range of the postings)
 *
 * The dictionary file is small (a line per page of about PAGE_BYTES) and fetched on open, checked against
 * the manifest's SHA-256; a page is fetched when a query term falls in it, checked against the checksum
 * its line holds, and its entries carry the checksums of their posting lists: every byte a query reads is
 * verified by something verified before it. Rare terms' postings sit inline in their page, saving a fetch.
 */
import { ByteReader, ByteWriter, type FileRange } from './byte-codec.ts';
import { MAX_RANGE_BYTES } from './range-source.ts';
import { MAX_TERM_CHARS } from './tokenizer.ts';

const MAGIC = [0x53, 0x44, 0x47, 0x44]; // "SDGD"
const VERSION = 1;

/** A page is cut once it passes this many bytes: small enough that a cold query's pages cost little. */
export const PAGE_BYTES = 16 * 1024;

/** Posting lists up to this many bytes are stored in the page itself. */
export const INLINE_POSTING_BYTES = 64;

/** UTF-8 bytes of the longest term the tokenizer emits. */
const MAX_TERM_BYTES = MAX_TERM_CHARS * 4;

export interface TermEntry {
  df: number;
  maxImpact: number;
  /** The posting list itself when small, else where it lies. */
  postings: Uint8Array | FileRange;
}

export interface PageLine {
  firstTerm: string;
  range: FileRange;
}

export function encodeDictionary(pages: readonly PageLine[]): Uint8Array {
  const out = new ByteWriter();
  for (const byte of [...MAGIC, VERSION]) out.u8(byte);
  out.varint(pages.length);
  for (const { firstTerm, range } of pages) {
    out.string(firstTerm);
    out.range(range);
  }
  return out.finish();
}

export function decodeDictionary(bytes: Uint8Array, files: number, what: string): PageLine[] {
  const reader = new ByteReader(bytes, what);
  for (const byte of [...MAGIC, VERSION]) if (reader.u8() !== byte) throw reader.malformed('does not start with SDGD version 1');
  const count = reader.varint();
  if (count > bytes.byteLength) throw reader.malformed(`claims ${count} pages`);
  const pages: PageLine[] = [];
  for (let i = 0; i < count; i++) {
    const line = { firstTerm: reader.string(MAX_TERM_BYTES), range: reader.range(files, MAX_RANGE_BYTES) };
    const previous = pages[pages.length - 1];
    if (previous && !(previous.firstTerm < line.firstTerm)) throw reader.malformed('lists its pages out of term order');
    pages.push(line);
  }
  if (!reader.done) throw reader.malformed('has bytes after its last page');
  return pages;
}

/** The page that would hold `term`: the last whose first term is not after it (−1: before them all). */
export function pageOf(pages: readonly PageLine[], term: string): number {
  let lo = 0;
  let hi = pages.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((pages[mid]?.firstTerm ?? '') <= term) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** Writes one page's entries; the builder feeds terms in order and cuts a page at PAGE_BYTES. */
export class PageWriter {
  private out = new ByteWriter();
  private count = 0;
  firstTerm: string | null = null;

  get bytes(): number {
    return this.out.size;
  }

  add(term: string, entry: TermEntry): void {
    this.firstTerm ??= term;
    const out = this.out;
    out.string(term);
    out.varint(entry.df);
    out.u8(entry.maxImpact);
    if (entry.postings instanceof Uint8Array) {
      out.varint(entry.postings.byteLength);
      out.u8(0);
      out.bytes(entry.postings);
    } else {
      out.varint(entry.postings.length);
      out.u8(1);
      out.range(entry.postings);
    }
    this.count++;
  }

  /** The page's bytes, and a fresh page begun. */
  finish(): Uint8Array {
    const page = new ByteWriter();
    page.varint(this.count);
    page.bytes(this.out.finish());
    this.out = new ByteWriter();
    this.count = 0;
    this.firstTerm = null;
    return page.finish();
  }
}

export function decodePage(bytes: Uint8Array, files: number, what: string): Map<string, TermEntry> {
  const reader = new ByteReader(bytes, what);
  const count = reader.varint();
  if (count > bytes.byteLength) throw reader.malformed(`claims ${count} terms`);
  const entries = new Map<string, TermEntry>();
  let previous = '';
  for (let i = 0; i < count; i++) {
    const term = reader.string(MAX_TERM_BYTES);
    if (i > 0 && !(previous < term)) throw reader.malformed('lists its terms out of order');
    const df = reader.varint();
    const maxImpact = reader.u8();
    const length = reader.varint();
    const inline = reader.u8() === 0;
    const postings = inline ? reader.bytesOf(length) : reader.range(files, MAX_RANGE_BYTES);
    if (!inline && (postings as FileRange).length !== length) throw reader.malformed(`gives '${term}' two lengths`);
    if (df === 0 || maxImpact === 0) throw reader.malformed(`gives '${term}' no postings`);
    entries.set(term, { df, maxImpact, postings });
    previous = term;
  }
  if (!reader.done) throw reader.malformed('has bytes after its last term');
  return entries;
}
