/**
 * Builds the lexical index in bounded memory, whatever the corpus's size (external-memory inversion, as
 * Lucene and PISA build): passages are inverted in memory until RUN_POSTINGS postings are buffered, then
 * the run is written to disk sorted by term; at the end the runs are merged term by term, each term's
 * postings turned into impacts (BM25 needs every document's length and the term's df, known only then),
 * block-encoded, and written with the dictionary pages that point at them.
 */
import { closeSync, mkdirSync, openSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ByteWriter } from '../src/retrieval/byte-codec.ts';
import { bm25, impactScale, passageTerms, quantize, type Bm25Params } from '../src/retrieval/bm25.ts';
import { encodePostings } from '../src/retrieval/postings.ts';
import { encodeDictionary, INLINE_POSTING_BYTES, PAGE_BYTES, PageWriter, type PageLine } from '../src/retrieval/term-dictionary.ts';
import type { Progress } from './progress.ts';
import type { RollingFiles } from './rolling-files.ts';

/** Postings buffered before a run goes to disk: about 150 MB of heap (two numbers a posting). */
const RUN_POSTINGS = 8_000_000;

export interface LexicalResult {
  /** The dictionary file's bytes: a line per page. */
  dictionary: Uint8Array;
  passages: number;
  avgLength: number;
  terms: number;
  impactScale: number;
}

export class LexicalBuilder {
  private buffer = new Map<string, number[]>();
  private buffered = 0;
  private readonly runs: string[] = [];
  private readonly lengths: number[] = [];

  constructor(
    private readonly workDir: string,
    private readonly params: Bm25Params,
  ) {
    mkdirSync(workDir, { recursive: true });
  }

  /** Rows are numbered in the order passages are added, from 0. */
  add(title: string, text: string): void {
    const row = this.lengths.length;
    const { tf, length } = passageTerms(title, text);
    this.lengths.push(length);
    for (const [term, count] of tf) {
      const list = this.buffer.get(term);
      if (list) list.push(row, count);
      else this.buffer.set(term, [row, count]);
    }
    this.buffered += tf.size;
    if (this.buffered >= RUN_POSTINGS) this.writeRun();
  }

  /** Merges the runs into `out`, reporting run bytes merged; `signal` is checked term by term. */
  finish(out: RollingFiles, progress?: Progress, signal?: AbortSignal): LexicalResult {
    this.writeRun();
    const passages = this.lengths.length;
    const avgLength = this.lengths.reduce((a, b) => a + b, 0) / Math.max(1, passages) || 1;
    const scale = impactScale(passages, this.params);
    const merge = new RunMerge(this.runs);
    progress?.start('merging the lexical index (run bytes)', merge.totalBytes);
    const pages: PageLine[] = [];
    const page = new PageWriter();
    const closePage = () => {
      const firstTerm = page.firstTerm;
      if (firstTerm !== null) pages.push({ firstTerm, range: out.append(page.finish()) });
    };
    let terms = 0;
    for (let next = merge.next(); next; next = merge.next()) {
      const { term, rows, tfs } = next;
      const impacts = rows.map((row, i) => quantize(bm25(tfs[i] ?? 0, this.lengths[row] ?? 0, avgLength, rows.length, passages, this.params), scale));
      const bytes = encodePostings(rows, impacts);
      const postings = bytes.byteLength <= INLINE_POSTING_BYTES ? bytes : out.append(bytes);
      page.add(term, { df: rows.length, maxImpact: impacts.reduce((a, b) => Math.max(a, b), 0), postings });
      if (page.bytes >= PAGE_BYTES) closePage();
      terms++;
      if (terms % 1024 === 0) {
        signal?.throwIfAborted();
        progress?.update(merge.bytesRead);
      }
    }
    closePage();
    merge.close();
    progress?.stop();
    // The runs are scratch: free their disk before the rest of the build writes more.
    rmSync(this.workDir, { recursive: true, force: true });
    return { dictionary: encodeDictionary(pages), passages, avgLength, terms, impactScale: scale };
  }

  private writeRun(): void {
    if (this.buffer.size === 0) return;
    const path = join(this.workDir, `run-${this.runs.length}.bin`);
    const file = new BufferedWriter(path);
    for (const term of [...this.buffer.keys()].sort()) {
      const list = this.buffer.get(term) ?? [];
      const out = file.writer;
      out.string(term);
      out.varint(list.length / 2);
      let previous = 0;
      for (let i = 0; i < list.length; i += 2) {
        out.varint((list[i] ?? 0) - previous);
        out.varint(list[i + 1] ?? 0);
        previous = list[i] ?? 0;
      }
      file.flushIfFull();
    }
    file.close();
    this.runs.push(path);
    this.buffer = new Map();
    this.buffered = 0;
  }
}

class BufferedWriter {
  writer = new ByteWriter();
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  flushIfFull(): void {
    if (this.writer.size >= 4 * 1024 * 1024) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    writeSync(this.fd, this.writer.finish());
    this.writer = new ByteWriter();
  }
}

/** Reads a run file front to back through a 1 MB window. Runs are the builder's own scratch files. */
class RunReader {
  private readonly fd: number;
  private buffer = new Uint8Array(1024 * 1024);
  private start = 0;
  private end = 0;
  bytesRead = 0;
  readonly size: number;

  constructor(path: string) {
    this.fd = openSync(path, 'r');
    this.size = statSync(path).size;
  }

  get done(): boolean {
    return this.start >= this.end && this.bytesRead >= this.size;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (;;) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
  }

  string(): string {
    const length = this.varint();
    this.fill(length);
    const text = UTF8.decode(this.buffer.subarray(this.start, this.start + length));
    this.start += length;
    return text;
  }

  close(): void {
    closeSync(this.fd);
  }

  private u8(): number {
    this.fill(1);
    return this.buffer[this.start++] ?? 0;
  }

  private fill(bytes: number): void {
    if (this.end - this.start >= bytes) return;
    this.buffer.copyWithin(0, this.start, this.end);
    this.end -= this.start;
    this.start = 0;
    if (this.buffer.byteLength < bytes) {
      const grown = new Uint8Array(bytes * 2);
      grown.set(this.buffer.subarray(0, this.end));
      this.buffer = grown;
    }
    while (this.end < bytes) {
      const read = readSync(this.fd, this.buffer, this.end, this.buffer.byteLength - this.end, this.bytesRead);
      if (read === 0) throw new Error('a build run file ends early: remove the output folder and build again');
      this.end += read;
      this.bytesRead += read;
    }
  }
}

const UTF8 = new TextDecoder();

interface Head {
  run: number;
  term: string;
  count: number;
}

/** Merges the sorted runs: each term once, its postings from every run in run order (rows ascend). */
class RunMerge {
  private readonly readers: RunReader[];
  private readonly heads: Head[] = [];
  readonly totalBytes: number;

  constructor(paths: readonly string[]) {
    this.readers = paths.map((path) => new RunReader(path));
    this.totalBytes = this.readers.reduce((sum, r) => sum + r.size, 0);
    this.readers.forEach((_, run) => this.advance(run));
  }

  get bytesRead(): number {
    return this.readers.reduce((sum, r) => sum + r.bytesRead, 0);
  }

  next(): { term: string; rows: number[]; tfs: number[] } | null {
    const first = this.heads[0];
    if (!first) return null;
    const term = first.term;
    const rows: number[] = [];
    const tfs: number[] = [];
    while (this.heads[0]?.term === term) {
      const head = this.heads[0];
      const reader = this.readers[head.run] as RunReader;
      let row = 0;
      for (let i = 0; i < head.count; i++) {
        row += reader.varint();
        rows.push(row);
        tfs.push(reader.varint());
      }
      this.heads.shift();
      this.advance(head.run);
    }
    return { term, rows, tfs };
  }

  close(): void {
    for (const reader of this.readers) reader.close();
  }

  /** Reads the run's next term into the sorted heads (few runs: an ordered insert is enough). */
  private advance(run: number): void {
    const reader = this.readers[run] as RunReader;
    if (reader.done) return;
    const head = { run, term: reader.string(), count: reader.varint() };
    let i = this.heads.length;
    while (i > 0 && before(head, this.heads[i - 1] as Head)) i--;
    this.heads.splice(i, 0, head);
  }
}

const before = (a: Head, b: Head) => a.term < b.term || (a.term === b.term && a.run < b.run);
