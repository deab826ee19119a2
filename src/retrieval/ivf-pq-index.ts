/**
 * Dense search over an IVF-PQ index, as FAISS's IndexIVFPQ does it with an inner-product metric and
 * `by_residual`: the vectors are partitioned into lists around k-means centroids, and each is stored as
 * the PQ code of its residual (the vector minus its list's centroid). A query
 *
 * 1. scores the centroids (the int8 flat scan) and keeps the `nprobe` best lists;
 * 2. fetches those lists (row ids and PQ codes) by range, and scores every row as
 *    <q, centroid> + <q, residual>, the second term from one ADC table for all lists (for an inner
 *    product the table does not depend on the list);
 * 3. re-ranks its `rerank` best candidates exactly, with their int8 rows, fetched by range a block of
 *    rows at a time (a list's rows lie together, so candidates from one list share blocks).
 *
 * Lists and blocks are kept under byte budgets, least recently used dropped first. Nothing else is
 * fetched: on open only the quantizer file (centroids, codebooks, the list directory).
 */
import type { IvfPqVectors } from '../core/index/index-manifest.ts';
import type { FetchFileRange } from './byte-codec.ts';
import { ByteLru } from './byte-lru.ts';
import { FlatInt8Index, TopK } from './flat-index.ts';
import { blockRange, decodeList, decodeQuantizer, type InvertedList, type IvfPqQuantizer } from './ivf-pq-format.ts';
import { ProductQuantizer, tableScore } from './product-quantizer.ts';
import type { RankedRow } from './ranked-row.ts';
import { decodeVectorShard } from './shard-codec.ts';
import type { Int8Vectors } from './vectors.ts';

/** Lists held: at 1M passages a list of ~1,000 rows takes ~53 KB, so this keeps ~600 of the 1,024. */
export const DEFAULT_LIST_BUDGET_BYTES = 32 * 1024 * 1024;
/** Blocks of int8 rows held for re-ranking (a query reads at most `rerank` of them). */
export const DEFAULT_BLOCK_BUDGET_BYTES = 16 * 1024 * 1024;

export interface IvfPqBudgets {
  listBytes?: number;
  blockBytes?: number;
}

export interface IvfPqSearchOptions {
  nprobe?: number;
  rerank?: number;
}

interface Candidate {
  list: number;
  /** The row's place in its list. */
  at: number;
}

export class IvfPqIndex {
  private readonly coarse: FlatInt8Index;
  private readonly pq: ProductQuantizer;
  private readonly lists: ByteLru<number, InvertedList>;
  private readonly blocks: ByteLru<string, Int8Vectors>;

  private constructor(
    private readonly spec: IvfPqVectors,
    private readonly quantizer: IvfPqQuantizer,
    private readonly fetchList: FetchFileRange,
    private readonly fetchRows: FetchFileRange,
    budgets: IvfPqBudgets,
  ) {
    this.coarse = new FlatInt8Index(quantizer.dimension);
    this.coarse.add(quantizer.centroids);
    this.pq = new ProductQuantizer(quantizer.dimension, quantizer.subquantizers, quantizer.codebooks);
    this.lists = new ByteLru(budgets.listBytes ?? DEFAULT_LIST_BUDGET_BYTES);
    this.blocks = new ByteLru(budgets.blockBytes ?? DEFAULT_BLOCK_BUDGET_BYTES);
  }

  /** `quantizer` is the quantizer file's bytes, already checked against the manifest's SHA-256;
   * `fetchList` reads ranges of `spec.files`, `fetchRows` of `spec.rowFiles`. */
  static open(spec: IvfPqVectors, quantizer: Uint8Array, fetchList: FetchFileRange, fetchRows: FetchFileRange, budgets: IvfPqBudgets = {}): IvfPqIndex {
    return new IvfPqIndex(spec, decodeQuantizer(quantizer, spec, `the IVF-PQ quantizer ${spec.quantizer.path}`), fetchList, fetchRows, budgets);
  }

  get size(): number {
    return this.spec.count;
  }

  get dimension(): number {
    return this.quantizer.dimension;
  }

  /** Bytes held: the centroids and codebooks, and the lists and row blocks fetched so far. */
  get memoryBytes(): number {
    return this.coarse.memoryBytes + this.quantizer.codebooks.byteLength + this.lists.bytes + this.blocks.bytes;
  }

  /** Drops the lists and blocks held; returns the bytes freed. */
  clear(): number {
    return this.lists.clear() + this.blocks.clear();
  }

  async search(query: Float32Array, k: number, options: IvfPqSearchOptions = {}): Promise<RankedRow[]> {
    if (query.length !== this.dimension) throw new Error(`query has ${query.length} dimensions, the index ${this.dimension}`);
    if (!query.every(Number.isFinite)) throw new Error('the query vector has a value that is not a finite number');
    const want = Math.min(Math.max(0, Math.floor(k)), this.size);
    if (want === 0) return [];
    const nprobe = Math.min(options.nprobe ?? this.spec.nprobe, this.spec.lists);
    const probed = this.coarse.search(query, nprobe).filter(({ row }) => (this.quantizer.directory[row]?.rows ?? 0) > 0);
    const lists = await Promise.all(probed.map(({ row }) => this.list(row)));
    const table = this.pq.innerProductTable(query);
    const m = this.quantizer.subquantizers;
    const top = new TopK(Math.max(want, options.rerank ?? this.spec.rerank));
    const candidates: Candidate[] = [];
    probed.forEach(({ row: list, score: base }, slot) => {
      const { codes, rows } = lists[slot] as InvertedList;
      for (let at = 0; at < rows.length; at++) {
        const score = base + tableScore(table, codes, at * m, m);
        if (score > top.threshold) top.offer(candidates.push({ list, at }) - 1, score);
      }
    });
    return this.rerank(query, top.sorted().map(({ row }) => candidates[row] as Candidate), lists, probed.map(({ row }) => row), want);
  }

  /**
   * Fetches every list and block once (so the range source caches them for offline use), keeping none,
   * and checks on the way that the lists hold every row exactly once.
   */
  async fetchAll(onList?: (done: number, total: number) => void): Promise<void> {
    const seen = new Uint8Array(this.size);
    const { directory, rowsPerBlock, dimension } = this.quantizer;
    for (const [list, entry] of directory.entries()) {
      if (entry.range) {
        const decoded = await this.readList(list, entry.range);
        for (const row of decoded.rows) {
          if (seen[row]) throw new Error(`the IVF-PQ index lists row ${row} twice: rebuild the index`);
          seen[row] = 1;
        }
        for (let block = 0; block < decoded.blocks.checksums.length; block++) await this.fetchRows(blockRange(decoded, block, rowsPerBlock, dimension).range);
      }
      onList?.(list + 1, directory.length);
    }
  }

  private async rerank(query: Float32Array, candidates: readonly Candidate[], lists: readonly InvertedList[], probed: readonly number[], k: number): Promise<RankedRow[]> {
    const { rowsPerBlock } = this.quantizer;
    const byList = new Map(probed.map((list, slot) => [list, lists[slot] as InvertedList]));
    const blocks = new Map<string, { list: number; block: number }>();
    for (const { list, at } of candidates) {
      const block = Math.floor(at / rowsPerBlock);
      blocks.set(`${list}:${block}`, { list, block });
    }
    const loaded = new Map(await Promise.all([...blocks].map(async ([key, { list, block }]) => [key, await this.block(key, byList.get(list) as InvertedList, block)] as const)));
    const top = new TopK(k);
    const seen = new Set<number>();
    for (const { list, at } of candidates) {
      const row = (byList.get(list) as InvertedList).rows[at] as number;
      // A malformed index could list a row twice; it is ranked once.
      if (seen.has(row)) continue;
      seen.add(row);
      const block = Math.floor(at / rowsPerBlock);
      top.offer(row, dot(loaded.get(`${list}:${block}`) as Int8Vectors, at - block * rowsPerBlock, query));
    }
    return top.sorted();
  }

  private list(list: number): Promise<InvertedList> {
    const range = this.quantizer.directory[list]?.range;
    if (!range) return Promise.reject(new Error(`the IVF-PQ index has no list ${list}`));
    return this.lists.get(list, async () => {
      const value = await this.readList(list, range);
      return { value, bytes: value.rows.byteLength + value.codes.byteLength + value.blocks.checksums.length * 16 };
    });
  }

  private async readList(list: number, range: NonNullable<IvfPqQuantizer['directory'][number]['range']>): Promise<InvertedList> {
    const { directory, subquantizers, rowsPerBlock } = this.quantizer;
    const shape = { rows: directory[list]?.rows ?? 0, subquantizers, rowsPerBlock, passages: this.size, rowFiles: this.spec.rowFiles.length };
    return decodeList(await this.fetchList(range), shape, `IVF-PQ list ${list}`);
  }

  private block(key: string, list: InvertedList, block: number): Promise<Int8Vectors> {
    return this.blocks.get(key, async () => {
      const { range, rows } = blockRange(list, block, this.quantizer.rowsPerBlock, this.dimension);
      const value = decodeVectorShard(await this.fetchRows(range), rows, this.dimension);
      return { value, bytes: value.codes.byteLength + value.scales.byteLength };
    });
  }
}

/** The exact inner product of the query with row `at` of a block (int8 codes times their scale). */
function dot({ codes, scales, dimension }: Int8Vectors, at: number, query: Float32Array): number {
  let sum = 0;
  for (let i = 0, o = at * dimension; i < dimension; i++, o++) sum += (codes[o] as number) * (query[i] as number);
  return sum * (scales[at] as number);
}
