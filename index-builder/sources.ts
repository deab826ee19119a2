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
import type { Document } from '../src/core/retriever.ts';
import { PassageText, PassageTitle, parseJsonLine } from '../src/core/corpus.ts';
import { chunkText } from './chunk.ts';
import { readWikipediaDump, type DumpOptions, type DumpStats } from './wikipedia-dump.ts';

/** A benchmark line carries all of a question's paragraphs (ten in HotpotQA, 15 k characters at most there). */
const MAX_SOURCE_LINE_CHARS = 1_000_000;

const Passage = z.object({ title: PassageTitle, text: PassageText });
const BenchmarkLine = z.object({
  contexts: z.array(z.object({ title: PassageTitle, paragraph_text: PassageText })).min(1),
});

/** Collects passages from any source: long texts chunked, ids stable, duplicates merged. */
export class PassageCollector {
  readonly documents: Document[] = [];
  duplicates = 0;
  private readonly seen = new Set<string>();

  constructor(private readonly chunkWords: number) {}

  add(title: string, text: string): void {
    for (const piece of chunkText(text, this.chunkWords)) {
      const id = passageId(title, piece);
      if (this.seen.has(id)) this.duplicates++;
      else this.documents.push({ id, title, text: piece });
      this.seen.add(id);
    }
  }
}

export interface ReadReport {
  documents: Document[];
  lines: number;
  duplicates: number;
  skipped: { line: number; reason: string }[];
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

export async function readPassages(path: string, chunkWords = 100): Promise<ReadReport> {
  const collector = new PassageCollector(chunkWords);
  const report = { lines: 0, skipped: [] as ReadReport['skipped'] };
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const raw of lines) {
    const line = ++report.lines;
    if (!raw.trim()) continue;
    const json = parseJsonLine(raw, MAX_SOURCE_LINE_CHARS);
    if ('error' in json) {
      report.skipped.push({ line, reason: json.error });
      continue;
    }
    const found = passagesOf(json.value);
    if (typeof found === 'string') {
      report.skipped.push({ line, reason: found });
      continue;
    }
    for (const { title, text } of found) collector.add(title, text);
  }
  return { ...report, documents: collector.documents, duplicates: collector.duplicates };
}

export interface DumpReport {
  documents: Document[];
  duplicates: number;
  stats: DumpStats;
}

/** A Wikipedia XML dump (`.xml` or `.xml.bz2`), its articles chunked into passages. */
export async function readWikipediaPassages(path: string, chunkWords: number, options: DumpOptions = {}): Promise<DumpReport> {
  const collector = new PassageCollector(chunkWords);
  const dump = readWikipediaDump(path, options);
  for (;;) {
    const next = await dump.next();
    if (next.done) return { documents: collector.documents, duplicates: collector.duplicates, stats: next.value };
    collector.add(next.value.title, next.value.text);
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
  const skipped: ReadReport['skipped'] = [];
  items.slice(0, questions).forEach((item, i) => {
    const parsed = HotpotItem.safeParse(item);
    if (!parsed.success) return void skipped.push({ line: i + 1, reason: 'not a HotpotQA question with context' });
    for (const [title, sentences] of parsed.data.context) if (sentences.join('').trim()) collector.add(title, sentences.join(''));
  });
  return { documents: collector.documents, lines: Math.min(items.length, questions), duplicates: collector.duplicates, skipped };
}
