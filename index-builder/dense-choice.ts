/** Which dense index the builder writes: chosen before the IVF-PQ builder (and its wasm kernel) loads. */

export type DenseChoice = 'flat' | 'ivf-pq' | 'auto';

/**
 * Passages from which `auto` builds IVF-PQ: the flat scan holds 388 bytes a passage (384-d) and reads
 * them all for every query, so past 250k passages it would hold more than the 100 MB a tab's dense
 * index may take, and its scan takes about 9 ms in a worker (3.4 ms at 100k, 25 ms at 1M in Chromium:
 * flat-index.ts). Below that it
 * is exact and fetches nothing per query, and IVF-PQ's lists would be too small to save much.
 */
export const IVF_PQ_MIN_PASSAGES = 250_000;

export function denseEncoding(choice: DenseChoice, count: number): 'int8' | 'ivf-pq' {
  if (choice === 'auto') return count >= IVF_PQ_MIN_PASSAGES ? 'ivf-pq' : 'int8';
  return choice === 'flat' ? 'int8' : 'ivf-pq';
}
