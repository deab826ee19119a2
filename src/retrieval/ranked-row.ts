/** What every ranking of the index returns (dense scan, BM25, fusion): a row (the passage's position in
 * the corpus) and the score it was ranked by, best first. */
export interface RankedRow {
  row: number;
  score: number;
}
