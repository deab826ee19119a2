/**
 * The lazy lexical index ranks exactly as an exhaustive BM25 over the same impacts: on random posting
 * lists (the codec and MaxScore alone) and on random corpora built by the real builder and opened from
 * disk (tokenizer, runs, merge, dictionary pages, ranges).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../index-builder/build.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { bm25, BM25_DEFAULTS, impactScale, passageTerms, quantize, queryTerms } from '../../src/retrieval/bm25.ts';
import { MAX_QUERY_TERMS } from '../../src/retrieval/lexical-index.ts';
import { topK } from '../../src/retrieval/maxscore.ts';
import type { RankedRow } from '../../src/retrieval/ranked-row.ts';
import { BLOCK_SIZE, encodePostings, END, PostingCursor } from '../../src/retrieval/postings.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Score desc, then row asc: the order both sides promise. */
function exhaustive(lists: readonly { rows: number[]; impacts: number[]; weight: number }[], k: number): RankedRow[] {
  const scores = new Map<number, number>();
  for (const { rows, impacts, weight } of lists) rows.forEach((row, i) => scores.set(row, (scores.get(row) ?? 0) + weight * (impacts[i] ?? 0)));
  return [...scores].map(([row, score]) => ({ row, score })).sort((a, b) => b.score - a.score || a.row - b.row).slice(0, k);
}

const ROWS = 5_000;
/** A posting list: distinct ascending rows (some long enough for several blocks), impacts 1…255
 * skewed low as real ones are. */
const postingList = fc
  .uniqueArray(fc.integer({ min: 0, max: ROWS - 1 }), { minLength: 1, maxLength: 700 })
  .chain((rows) => fc.tuple(fc.constant([...rows].sort((a, b) => a - b)), fc.array(fc.oneof(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 255 })), { minLength: rows.length, maxLength: rows.length })));

describe('posting lists', () => {
  it('decode to the rows and impacts they were encoded from, and skip to any row', () => {
    fc.assert(
      fc.property(postingList, fc.integer({ min: 0, max: ROWS }), ([rows, impacts], target) => {
        const max = Math.max(...impacts);
        const cursor = new PostingCursor(encodePostings(rows, impacts), rows.length, max, ROWS, 'test list');
        const seen: number[][] = [];
        for (; cursor.row !== END; cursor.next()) seen.push([cursor.row, cursor.impact]);
        expect(seen).toEqual(rows.map((row, i) => [row, impacts[i]]));
        const skipping = new PostingCursor(encodePostings(rows, impacts), rows.length, max, ROWS, 'test list');
        skipping.advance(target);
        expect(skipping.row).toBe(rows.find((row) => row >= target) ?? END);
      }),
      { numRuns: 200 },
    );
  });

  it('refuse bytes that disagree with their dictionary entry instead of yielding wrong rows', () => {
    const rows = Array.from({ length: BLOCK_SIZE * 3 }, (_, i) => i * 7);
    const bytes = encodePostings(rows, rows.map(() => 3));
    expect(() => new PostingCursor(bytes, rows.length, 3, rows.length, "the posting list of 'x'")).toThrow(/posting list of 'x' is malformed/);
    expect(() => new PostingCursor(bytes.subarray(0, bytes.length - 5), rows.length, 3, ROWS * 2, "the posting list of 'x'")).toThrow(/malformed/);
  });
});

describe('MaxScore top-k', () => {
  it('equals the exhaustive top k for any lists, weights and k', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(postingList, fc.integer({ min: 1, max: 3 })), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 30 }), (terms, k) => {
        const lists = terms.map(([[rows, impacts], weight]) => ({ rows, impacts, weight }));
        const cursors = lists.map(({ rows, impacts, weight }) => ({ cursor: new PostingCursor(encodePostings(rows, impacts), rows.length, Math.max(...impacts), ROWS, 'list'), weight }));
        expect(topK(cursors, k)).toEqual(exhaustive(lists, k));
      }),
      { numRuns: 300 },
    );
  });
});

const WORDS = ['the', 'river', 'rivers', 'album', 'band', 'film', 'born', 'magazine', 'Beyoncé', 'city', 'war', 'queen', 'king', 'song', 'of', 'first', 'women', 'x'];
const text = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 40 }).map((words) => words.join(' '));
const corpus = fc.array(fc.record({ title: fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 3 }).map((w) => w.join(' ')), text }), { minLength: 1, maxLength: 300 });

/** Exhaustive BM25 straight from the texts, with the index's own formula and quantisation. */
function bruteForce(documents: readonly { title: string; text: string }[], query: string, k: number): RankedRow[] {
  const terms = documents.map((d) => passageTerms(d.title, d.text));
  const avg = terms.reduce((sum, t) => sum + t.length, 0) / terms.length || 1;
  const scale = impactScale(documents.length, BM25_DEFAULTS);
  const lists = [...queryTerms(query, MAX_QUERY_TERMS)].map(([term, weight]) => {
    const rows = terms.flatMap((t, row) => (t.tf.has(term) ? [row] : []));
    const impacts = rows.map((row) => quantize(bm25(terms[row]?.tf.get(term) ?? 0, terms[row]?.length ?? 0, avg, rows.length, documents.length, BM25_DEFAULTS), scale));
    return { rows, impacts, weight };
  });
  return exhaustive(lists, k);
}

describe('an index built from a random corpus', () => {
  it('answers every query with the exhaustive BM25 top k, in order, with the right passages', async () => {
    await fc.assert(
      fc.asyncProperty(corpus, fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 12 }), async (rows, words, k) => {
        const dir = mkdtempSync(join(tmpdir(), 'sdg-topk-'));
        dirs.push(dir);
        const documents = rows.map((row, i) => ({ id: `d${i}`, ...row }));
        await buildIndex({ name: 'random', source: { kind: 'jsonl', file: 'x.jsonl', sha256: '0'.repeat(64) }, documents, chunkWords: 1000 }, { outDir: dir, embedder: null, shardBytes: 2048, cacheDir: join(dir, '.cache') });
        const index = await openIndexFolder(dir);
        const query = words.join(' ');
        const hits = await index.search(query, { mode: 'lexical', k });
        const expected = bruteForce(documents, query, k);
        expect(hits.map((hit) => hit.id)).toEqual(expected.map(({ row }) => `d${row}`));
        expect(hits.map((hit) => hit.text)).toEqual(expected.map(({ row }) => documents[row]?.text));
      }),
      { numRuns: 40 },
    );
  });
});
