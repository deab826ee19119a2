/**
 * Exact top-k over posting cursors with MaxScore pruning (Turtle & Flood 1995) refined by block maxima
 * (as PISA's block-max MaxScore): terms whose combined upper bound cannot lift a passage above the k-th
 * best score so far are never walked, only probed for the passages the other terms found, and a probe is
 * skipped when the blocks it would read cannot make up the difference. Scores are integer sums of
 * impacts, so the result is exactly the exhaustive one (ties go to the lower row), which the tests check.
 */
import { END, type PostingCursor } from './postings.ts';
import type { RankedRow } from './ranked-row.ts';

export interface WeightedCursor {
  cursor: PostingCursor;
  /** How often the term occurs in the query. */
  weight: number;
}

/** Rows with the sum of weight × impact over the query's terms. */
export function topK(terms: readonly WeightedCursor[], k: number): RankedRow[] {
  if (k <= 0 || terms.length === 0) return [];
  const lists = [...terms].sort((a, b) => bound(a) - bound(b));
  const prefix: number[] = [];
  lists.reduce((sum, list, i) => (prefix[i] = sum + bound(list)), 0);
  const heap = new TopHeap(k);
  let firstEssential = 0;
  for (;;) {
    let row = END;
    for (let i = firstEssential; i < lists.length; i++) row = Math.min(row, lists[i]?.cursor.row ?? END);
    if (row === END) break;
    let score = 0;
    for (let i = firstEssential; i < lists.length; i++) {
      const { cursor, weight } = lists[i] as WeightedCursor;
      if (cursor.row === row) {
        score += weight * cursor.impact;
        cursor.next();
      }
    }
    score = probe(lists, prefix, firstEssential, row, score, heap.threshold);
    if (score > heap.threshold) {
      heap.push(row, score);
      while (firstEssential < lists.length && (prefix[firstEssential] ?? 0) <= heap.threshold) firstEssential++;
    }
  }
  return heap.sorted();
}

/** Adds the non-essential terms' impacts at `row`, most promising first, giving up (returning −1) as
 * soon as even their upper bounds cannot lift `score` above `threshold`. */
function probe(lists: readonly WeightedCursor[], prefix: readonly number[], firstEssential: number, row: number, score: number, threshold: number): number {
  let total = score;
  for (let i = firstEssential - 1; i >= 0; i--) {
    const rest = prefix[i] ?? 0;
    if (total + rest <= threshold) return -1;
    const { cursor, weight } = lists[i] as WeightedCursor;
    if (total + rest - bound(lists[i] as WeightedCursor) + weight * cursor.blockMaxAt(row) <= threshold) return -1;
    cursor.advance(row);
    if (cursor.row === row) total += weight * cursor.impact;
  }
  return total;
}

const bound = ({ cursor, weight }: WeightedCursor) => weight * cursor.maxImpact;

/** The k best rows so far; the worst on top. Rows arrive in ascending order, so a later row that only
 * ties the worst score never displaces it. */
class TopHeap {
  private readonly rows: number[] = [];
  private readonly scores: number[] = [];

  constructor(private readonly k: number) {}

  /** A row must score above this to enter (0 until k rows are in). */
  get threshold(): number {
    return this.rows.length < this.k ? 0 : (this.scores[0] ?? 0);
  }

  push(row: number, score: number): void {
    if (this.rows.length < this.k) {
      this.rows.push(row);
      this.scores.push(score);
      this.up(this.rows.length - 1);
    } else {
      this.rows[0] = row;
      this.scores[0] = score;
      this.down(0);
    }
  }

  sorted(): RankedRow[] {
    return this.rows.map((row, i) => ({ row, score: this.scores[i] ?? 0 })).sort((a, b) => b.score - a.score || a.row - b.row);
  }

  /** Worse = lower score, or the same score and a higher row. */
  private worse(a: number, b: number): boolean {
    const sa = this.scores[a] ?? 0;
    const sb = this.scores[b] ?? 0;
    return sa < sb || (sa === sb && (this.rows[a] ?? 0) > (this.rows[b] ?? 0));
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.worse(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < this.rows.length && this.worse(l, worst)) worst = l;
      if (r < this.rows.length && this.worse(r, worst)) worst = r;
      if (worst === i) return;
      this.swap(i, worst);
      i = worst;
    }
  }

  private swap(a: number, b: number): void {
    [this.rows[a], this.rows[b]] = [this.rows[b] ?? 0, this.rows[a] ?? 0];
    [this.scores[a], this.scores[b]] = [this.scores[b] ?? 0, this.scores[a] ?? 0];
  }
}
