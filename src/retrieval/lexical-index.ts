/**
 * The lexical (BM25) index at run time, lazy: on open it holds only the term dictionary's page lines; a
 * query fetches the dictionary pages its terms fall in and those terms' posting lists, and nothing else.
 * Both are kept under one byte budget, least recently used dropped first, so memory does not grow with
 * the corpus. Ranking is exact top-k BM25 (maxscore.ts) over the index's integer impacts.
 */
import type { LexicalSpec } from '../core/index/index-manifest.ts';
import type { FetchFileRange } from './byte-codec.ts';
import { queryTerms } from './bm25.ts';
import { ByteLru } from './byte-lru.ts';
import { topK, type WeightedCursor } from './maxscore.ts';
import { PostingCursor } from './postings.ts';
import type { RankedRow } from './ranked-row.ts';
import { decodeDictionary, decodePage, pageOf, type PageLine, type TermEntry } from './term-dictionary.ts';
import { TOKENIZER_ID } from './tokenizer.ts';

/** Distinct query terms looked up, first come first kept: bounds a 1,000-word query's fetches. */
export const MAX_QUERY_TERMS = 64;

/** Dictionary pages and posting lists held: what a few hundred queries of common words fetch at 1M
 * passages (npm run bench:scale). */
export const DEFAULT_LEXICAL_BUDGET_BYTES = 48 * 1024 * 1024;

/** A decoded page's Map of entries costs about three times its bytes in V8. */
const PAGE_MEMORY_FACTOR = 3;

export class LexicalIndex {
  private readonly pages: ByteLru<number, Map<string, TermEntry>>;
  private readonly postings: ByteLru<string, Uint8Array>;

  private constructor(
    private readonly spec: LexicalSpec,
    private readonly rows: number,
    private readonly lines: PageLine[],
    private readonly fetchRange: FetchFileRange,
    budgetBytes: number,
  ) {
    // One budget, split: pages are few and small, posting lists many and large.
    this.pages = new ByteLru(budgetBytes / 4);
    this.postings = new ByteLru((budgetBytes * 3) / 4);
  }

  /** `dictionary` is the dictionary file's bytes, already checked against the manifest. */
  static open(spec: LexicalSpec, rows: number, dictionary: Uint8Array, fetchRange: FetchFileRange, budgetBytes = DEFAULT_LEXICAL_BUDGET_BYTES): LexicalIndex {
    if (spec.tokenizer !== TOKENIZER_ID) throw new Error(`the index was cut into words by ${spec.tokenizer}, this app cuts queries by ${TOKENIZER_ID}: rebuild the index`);
    return new LexicalIndex(spec, rows, decodeDictionary(dictionary, spec.files.length, `the term dictionary ${spec.dictionary.path}`), fetchRange, budgetBytes);
  }

  get memoryBytes(): number {
    return this.pages.bytes + this.postings.bytes;
  }

  /** Drops the pages and posting lists held; returns the bytes freed. */
  clear(): number {
    return this.pages.clear() + this.postings.clear();
  }

  /** Fetches every page and posting list once (so the range source caches them), keeping none. */
  async fetchAll(onPage?: (done: number, total: number) => void): Promise<void> {
    for (const [i, line] of this.lines.entries()) {
      const { entries } = await this.readPage(i, line);
      for (const { postings } of entries.values()) if (!(postings instanceof Uint8Array)) await this.fetchRange(postings);
      onPage?.(i + 1, this.lines.length);
    }
  }

  /** Rows scored by BM25, as the quantised impacts add up to it. */
  async search(query: string, k: number): Promise<RankedRow[]> {
    const weights = queryTerms(query, MAX_QUERY_TERMS);
    if (k <= 0 || weights.size === 0) return [];
    const found = await Promise.all([...weights].map(async ([term, weight]) => ({ term, weight, entry: await this.entry(term) })));
    const cursors: WeightedCursor[] = await Promise.all(
      found.flatMap(({ term, weight, entry }) => (entry ? [this.cursor(term, entry).then((cursor) => ({ cursor, weight }))] : [])),
    );
    return topK(cursors, k).map(({ row, score }) => ({ row, score: score / this.spec.impactScale }));
  }

  private async entry(term: string): Promise<TermEntry | undefined> {
    const page = pageOf(this.lines, term);
    const line = this.lines[page];
    if (!line) return undefined;
    const entries = await this.pages.get(page, async () => {
      const read = await this.readPage(page, line);
      return { value: read.entries, bytes: read.bytes * PAGE_MEMORY_FACTOR };
    });
    return entries.get(term);
  }

  private async readPage(page: number, line: PageLine): Promise<{ entries: Map<string, TermEntry>; bytes: number }> {
    const bytes = await this.fetchRange(line.range);
    return { entries: decodePage(bytes, this.spec.files.length, `term dictionary page ${page}`), bytes: bytes.byteLength };
  }

  private async cursor(term: string, entry: TermEntry): Promise<PostingCursor> {
    const { postings } = entry;
    const bytes = postings instanceof Uint8Array ? postings : await this.postings.get(term, async () => {
      const value = await this.fetchRange(postings);
      return { value, bytes: value.byteLength };
    });
    return new PostingCursor(bytes, entry.df, entry.maxImpact, this.rows, `the posting list of '${term}'`);
  }
}
