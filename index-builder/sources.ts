/**
 * Reads passage sources: passage JSONL (`{id, title, text}`), HotpotQA-style benchmark JSONL
 * (`{question_text, contexts: [{title, paragraph_text}]}`, whose paragraphs become passages), or a
 * Wikipedia XML dump. Every bad line or skipped page is counted; nothing is dropped silently.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import type { Document } from '../src/core/agent/retriever.ts';
import { PassageText, PassageTitle, parseJsonLine } from '../src/core/index/corpus.ts';
import { chunkText } from './chunk.ts';
import { readWikipediaDump, type DumpOptions, type DumpStats } from './wikipedia-dump.ts';

/** A benchmark line carries all of a question's paragraphs (ten in HotpotQA, 15 k characters at most there). */
const MAX_SOURCE_LINE_CHARS = 1_000_000;

const Passage = z.object({ title: PassageTitle, text: PassageText });
const BenchmarkLine = z.object({
  contexts: z.array(z.object({ title: PassageTitle, paragraph_text: PassageText })).min(1),
});

/** Turns texts from any source into passages: long texts chunked, ids stable, duplicates merged. The
 * ids seen are kept (16 hex characters each, about 60 bytes of heap: 300 MB at 5M passages). */
export class PassageCollector {
  duplicates = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly chunkWords: number) {}

  *add(title: string, text: string): Generator<Document> {
    for (const piece of chunkText(text, this.chunkWords)) {
      const id = passageId(title, piece);
      if (this.seen.has(id)) this.duplicates++;
      else {
        this.seen.add(id);
        yield { id, title, text: piece };
      }
    }
  }
}

/** What reading a corpus found, filled in as it is read. */
export interface ReadTally {
  lines: number;
  duplicates: number;
  skipped: { line: number; reason: string }[];
}

export interface ReadReport extends ReadTally {
  documents: Document[];
}

/** Ids are a hash of title + text, so the same passage gets the same id in every build. */
function passageId(title: string, text: string): string {
  return createHash('sha256').update(`${title}\u0000${text}`).digest('hex').slice(0, 16);
}

function passagesOf(value: unknown): { title: string; text: string }[] | string {
  const bench = BenchmarkLine.safeParse(value);
  if (bench.success) return bench.data.contexts.map((c) => ({ title: c.title, text: c.paragraph_text }));
  const passage = Passage.safeParse(value);
  if (passage.success) return [passage.data];
  return 'neither a passage {id, title, text} nor a benchmark line with contexts';
}

export function newTally(): ReadTally {
  return { lines: 0, duplicates: 0, skipped: [] };
}

/** The passages of a JSONL corpus, streamed; `tally` is filled in as lines are read. */
export async function* streamPassages(path: string, chunkWords: number, tally: ReadTally, onBytes?: (bytes: number) => void): AsyncGenerator<Document> {
  const collector = new PassageCollector(chunkWords);
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  // Bytes are counted as lines are handed on, not as the stream reads ahead (readline buffers a small
  // file whole at once): the progress bar follows the build, embeddings included.
  let bytes = 0;
  for await (const raw of lines) {
    bytes += Buffer.byteLength(raw) + 1;
    onBytes?.(bytes);
    const line = ++tally.lines;
    if (!raw.trim()) continue;
    const json = parseJsonLine(raw, MAX_SOURCE_LINE_CHARS);
    const found = 'error' in json ? json.error : passagesOf(json.value);
    if (typeof found === 'string') {
      tally.skipped.push({ line, reason: found });
      continue;
    }
    for (const { title, text } of found) yield* collector.add(title, text);
    tally.duplicates = collector.duplicates;
  }
}

/** A whole (small) JSONL corpus in memory: for tests, benchmarks and the demo's question checks. */
export async function readPassages(path: string, chunkWords = 100): Promise<ReadReport> {
  const tally = newTally();
  const documents: Document[] = [];
  for await (const document of streamPassages(path, chunkWords, tally)) documents.push(document);
  return { ...tally, documents };
}

/** A Wikipedia XML dump (`.xml` or `.xml.bz2`), its articles chunked into passages, streamed; the
 * dump's statistics are the generator's return value. */
export async function* streamWikipediaPassages(path: string, chunkWords: number, options: DumpOptions = {}): AsyncGenerator<Document, { stats: DumpStats; duplicates: number }> {
  const collector = new PassageCollector(chunkWords);
  const dump = readWikipediaDump(path, options);
  for (;;) {
    const next = await dump.next();
    if (next.done) return { stats: next.value, duplicates: collector.duplicates };
    yield* collector.add(next.value.title, next.value.text);
  }
}

export function isWikipediaDump(path: string): boolean {
  return /\.xml(\.bz2)?$/i.test(path);
}

const HotpotItem = z.object({ context: z.array(z.tuple([PassageTitle, z.array(z.string())])).min(1) });

/**
 * The official HotpotQA JSON (an array of `{_id, question, answer, context: [[title, sentences]]}`):
 * the paragraphs of its first `questions` items. Sentences keep their own leading spaces, so joining
 * them restores the paragraph.
 */
export async function readHotpotJson(path: string, questions: number, chunkWords: number): Promise<ReadReport> {
  let items: unknown;
  try {
    items = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    throw new Error(`${path} is not valid JSON`);
  }
  if (!Array.isArray(items)) throw new Error(`${path} is not a HotpotQA file (expected a JSON array)`);
  const collector = new PassageCollector(chunkWords);
  const documents: Document[] = [];
  const skipped: ReadReport['skipped'] = [];
  items.slice(0, questions).forEach((item, i) => {
    const parsed = HotpotItem.safeParse(item);
    if (!parsed.success) return void skipped.push({ line: i + 1, reason: 'not a HotpotQA question with context' });
    for (const [title, sentences] of parsed.data.context) if (sentences.join('').trim()) documents.push(...collector.add(title, sentences.join('')));
  });
  return { documents, lines: Math.min(items.length, questions), duplicates: collector.duplicates, skipped };
}
