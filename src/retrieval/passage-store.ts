/**
 * Passage texts, fetched a block at a time when a hit lands in one. Rows are cut into blocks of a fixed
 * number of rows (row r is in block ⌊r / rowsPerBlock⌋); a block is the gzip of the JSON array of its
 * passages, and the passage table lists where each block lies with its checksum:
 *
 *   passage table := "SDGP" u8 version, varint rowsPerBlock, varint rows, varint blocks, range per block
 *
 * Blocks are decompressed with the platform's DecompressionStream (the browser's, Node's the same) and
 * kept decoded under a byte budget, least recently used dropped first (byte-lru.ts).
 */
import type { Document } from '../core/agent/retriever.ts';
import { ByteReader, ByteWriter, type FetchFileRange, type FileRange } from './byte-codec.ts';
import { ByteLru } from './byte-lru.ts';
import { decodePassageShard, joinBytes } from './shard-codec.ts';

const MAGIC = [0x53, 0x44, 0x47, 0x50]; // "SDGP"
const VERSION = 1;

/** A block is about 64 passages: one hit costs a fetch of some 15 KB compressed (npm run bench:scale). */
export const ROWS_PER_BLOCK = 64;

/** A block never inflates past this: 64 passages of the corpus's longest allowed text, and room. */
const MAX_BLOCK_TEXT_BYTES = 8 * 1024 * 1024;

/** What decoded passages cost V8 per byte of their UTF-8 JSON: 1.44–1.53 on the scale corpus, where
 * 43% of passages hold a character above U+00FF and so are stored at two bytes a character
 * (`npx tsx test/bench/memory.ts --passages 20000`, passageHeapPerBudgetByte at a factor of 1). */
const HEAP_PER_TEXT_BYTE = 1.5;

/** The bytes a decoded block is counted at, from its inflated size. */
export const blockMemoryBytes = (textBytes: number) => Math.ceil(textBytes * HEAP_PER_TEXT_BYTE);

/** About 60k passages of 100 words; the texts of one query's hits take a few blocks of it. */
export const DEFAULT_PASSAGE_BUDGET_BYTES = 64 * 1024 * 1024;

export interface PassageTable {
  rowsPerBlock: number;
  rows: number;
  blocks: FileRange[];
}

export function encodePassageTable(table: PassageTable): Uint8Array {
  const out = new ByteWriter();
  for (const byte of [...MAGIC, VERSION]) out.u8(byte);
  out.varint(table.rowsPerBlock);
  out.varint(table.rows);
  out.varint(table.blocks.length);
  for (const block of table.blocks) out.range(block);
  return out.finish();
}

export function decodePassageTable(bytes: Uint8Array, files: number, rows: number, what: string): PassageTable {
  const reader = new ByteReader(bytes, what);
  for (const byte of [...MAGIC, VERSION]) if (reader.u8() !== byte) throw reader.malformed('does not start with SDGP version 1');
  const rowsPerBlock = reader.varint();
  const count = reader.varint();
  const blockCount = reader.varint();
  if (rowsPerBlock < 1 || count !== rows || blockCount !== Math.ceil(rows / rowsPerBlock)) {
    throw reader.malformed(`describes ${count} rows in ${blockCount} blocks of ${rowsPerBlock}, the manifest ${rows} rows`);
  }
  const blocks = Array.from({ length: blockCount }, () => reader.range(files, MAX_BLOCK_TEXT_BYTES));
  if (!reader.done) throw reader.malformed('has bytes after its last block');
  return { rowsPerBlock, rows, blocks };
}

export class PassageStore {
  private readonly held: ByteLru<number, Document[]>;

  constructor(
    private readonly table: PassageTable,
    private readonly fetchBlock: FetchFileRange,
    budgetBytes: number = DEFAULT_PASSAGE_BUDGET_BYTES,
  ) {
    this.held = new ByteLru(budgetBytes);
  }

  get memory(): { blocks: number; bytes: number; budgetBytes: number } {
    return { blocks: this.held.count, bytes: this.held.bytes, budgetBytes: this.held.budgetBytes };
  }

  get blockCount(): number {
    return this.table.blocks.length;
  }

  /** The passages at `rows`, each block fetched once however many hits share it. */
  async documents(rows: readonly number[]): Promise<Document[]> {
    const blocks = new Map<number, Promise<Document[]>>();
    for (const row of rows) {
      if (!Number.isInteger(row) || row < 0 || row >= this.table.rows) throw new Error(`row ${row} is outside the index`);
      const block = Math.floor(row / this.table.rowsPerBlock);
      if (!blocks.has(block)) blocks.set(block, this.block(block));
    }
    return Promise.all(rows.map(async (row) => (await blocks.get(Math.floor(row / this.table.rowsPerBlock)))?.[row % this.table.rowsPerBlock] as Document));
  }

  /** Fetches (and so caches, when the source keeps what it fetches) every block, keeping none. */
  async fetchAll(onBlock?: (done: number) => void): Promise<void> {
    for (const [i, range] of this.table.blocks.entries()) {
      await this.fetchBlock(range);
      onBlock?.(i + 1);
    }
  }

  clear(): number {
    return this.held.clear();
  }

  private block(index: number): Promise<Document[]> {
    const range = this.table.blocks[index] as FileRange;
    const count = Math.min(this.table.rowsPerBlock, this.table.rows - index * this.table.rowsPerBlock);
    return this.held.get(index, async () => {
      const text = await inflate(await this.fetchBlock(range), MAX_BLOCK_TEXT_BYTES);
      return { value: decodePassageShard(text, count), bytes: blockMemoryBytes(text.byteLength) };
    });
  }
}

/** gunzip, refusing to inflate past `maxBytes` (a small hostile block must not become gigabytes). */
export async function inflate(bytes: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  const reader = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read().catch(() => {
      throw new Error('a passage block is not valid gzip');
    });
    if (done) return joinBytes(parts);
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new Error(`a passage block inflates past ${maxBytes} bytes`);
    }
    parts.push(value);
  }
}
