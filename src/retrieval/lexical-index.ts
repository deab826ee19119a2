/**
 * The lexical (BM25) index over a corpus's rows, through MiniSearch. The builder serialises it into
 * the index's lexical shards; the retrieval worker loads it back with the same options.
 */
import MiniSearch, { type Options } from 'minisearch';
import type { DenseHit } from './dense-index.ts';

export interface LexicalDocument {
  title: string;
  text: string;
}

interface Row extends LexicalDocument {
  row: number;
}

const OPTIONS: Options<Row> = {
  idField: 'row',
  fields: ['title', 'text'],
  searchOptions: { boost: { title: 2 }, prefix: false, fuzzy: false, combineWith: 'OR' },
};

export class LexicalIndex {
  private constructor(private readonly index: MiniSearch<Row>) {}

  /** Row numbers are the documents' positions in `documents`. */
  static build(documents: readonly LexicalDocument[]): LexicalIndex {
    const index = new MiniSearch<Row>(OPTIONS);
    index.addAll(documents.map(({ title, text }, row) => ({ row, title, text })));
    return new LexicalIndex(index);
  }

  static fromJSON(json: string): LexicalIndex {
    try {
      return new LexicalIndex(MiniSearch.loadJSON<Row>(json, OPTIONS));
    } catch (error) {
      throw new Error(`the lexical index cannot be read: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  toJSON(): string {
    return JSON.stringify(this.index);
  }

  get size(): number {
    return this.index.documentCount;
  }

  search(query: string, k: number): DenseHit[] {
    if (k <= 0) return [];
    return this.index
      .search(query)
      .slice(0, k)
      .map((hit) => ({ row: Number(hit.id), score: hit.score }));
  }
}
