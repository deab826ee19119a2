/** Hybrid retrieval merges ranked lists by reciprocal-rank fusion, which needs no score calibration. */
import type { RankedRow } from './ranked-row.ts';

/** The usual constant from Cormack et al. (2009): damps the weight of the very first ranks. */
const RRF_K = 60;

export function reciprocalRankFusion(lists: readonly (readonly RankedRow[])[], k: number): RankedRow[] {
  const fused = new Map<number, number>();
  for (const list of lists) {
    list.forEach(({ row }, rank) => fused.set(row, (fused.get(row) ?? 0) + 1 / (RRF_K + rank + 1)));
  }
  return [...fused]
    .map(([row, score]) => ({ row, score }))
    .sort((a, b) => b.score - a.score || a.row - b.row)
    .slice(0, Math.max(0, k));
}
