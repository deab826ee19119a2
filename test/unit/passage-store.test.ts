/** Passage blocks under a memory budget: a hit fetches its block (a checksummed range of a passages
 * file); beyond the budget the least recently used blocks are dropped and fetched again (verified again)
 * when a hit lands in them; trim frees them; prefetch fetches every block once and keeps none. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../index-builder/build.ts';
import { fileFetch } from '../../index-builder/file-fetch.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import type { IndexManifest } from '../../src/core/index/index-manifest.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import type { FileRange } from '../../src/retrieval/byte-codec.ts';
import { blockMemoryBytes, decodePassageTable, inflate, ROWS_PER_BLOCK } from '../../src/retrieval/passage-store.ts';
import { rangeSource } from '../../src/retrieval/range-source.ts';
import { ShardedIndex } from '../../src/retrieval/sharded-index.ts';
import { shardSource, type ShardCache } from '../../src/retrieval/shard-source.ts';

const FILLER = 'river stone bridge valley harbour lantern meadow orchard granite compass';
const BLOCKS = 6;
/** Each passage has one word no other has, so a lexical search for it finds exactly that passage. */
const documents: Document[] = Array.from({ length: BLOCKS * ROWS_PER_BLOCK }, (_, i) => ({ id: `d${i}`, title: `Place ${i}`, text: `The only passage naming zq${i}x. ${FILLER} ${FILLER}` }));

let dir = '';
let manifest: IndexManifest;
let blocks: FileRange[] = [];
/** What the budget counts for each block (from its inflated size). */
let inflated: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdg-passage-store-'));
  const input = { name: 'passage store', source: { kind: 'jsonl' as const, file: 'x.jsonl', sha256: '0'.repeat(64) }, documents, chunkWords: 100 };
  ({ manifest } = await buildIndex(input, { outDir: dir, embedder: null, shardBytes: 4096, cacheDir: join(dir, '.cache') }));
  const { passages } = manifest;
  ({ blocks } = decodePassageTable(readFileSync(join(dir, passages.table.path)), passages.files.length, passages.count, 'the passage table'));
  inflated = await Promise.all(blocks.map(async (block) => blockMemoryBytes((await inflate(readFileSync(join(dir, pathOf(block))).subarray(block.offset, block.offset + block.length), Infinity)).byteLength)));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pathOf = (block: FileRange) => manifest.passages.files[block.file]?.path ?? '';
/** How the disk reads below are counted: a whole file by its name, a range by its name and offset. */
const blockKey = (row: number) => {
  const block = blocks[Math.floor(row / ROWS_PER_BLOCK)];
  return block ? `${pathOf(block)}@${block.offset}` : '';
};
/** A budget holding the two largest blocks. */
const twoBlocks = () => [...inflated].sort((a, b) => b - a).slice(0, 2).reduce((sum, bytes) => sum + bytes, 0);

/** The index over sources that count what they read from disk. Assembled here rather than by
 * openIndexFolder, which has no place to count reads per range. */
async function open(passageBudgetBytes?: number, cache?: ShardCache) {
  const reads = new Map<string, number>();
  const counted: typeof fetch = (input, init) => {
    const name = basename(new URL(input instanceof Request ? input.url : String(input)).pathname);
    const first = /^bytes=(\d+)-/.exec(new Headers(init?.headers).get('range') ?? '')?.[1];
    const key = first === undefined ? name : `${name}@${first}`;
    reads.set(key, (reads.get(key) ?? 0) + 1);
    return fileFetch(input, init);
  };
  const base = pathToFileURL(`${dir}/`);
  const index = await ShardedIndex.open(readManifest(dir), {
    fetchShard: shardSource({ base, fetch: counted }),
    fetchRange: rangeSource({ base, fetch: counted, ...(cache && { cache }) }),
    embedder: null,
    ...(passageBudgetBytes !== undefined && { passageBudgetBytes }),
  });
  return { index, reads, total: () => [...reads.values()].reduce((a, b) => a + b, 0) };
}

async function findText(index: ShardedIndex, row: number): Promise<string | undefined> {
  const [top] = await index.search(`zq${row}x`, { mode: 'lexical', k: 1 });
  return top?.text;
}

/** A row in each of blocks 2, 4 and 5: enough to push block 0 out of a two-block budget. */
const ELSEWHERE = [2, 4, 5].map((block) => block * ROWS_PER_BLOCK + 7);

describe('passage blocks under a memory budget', () => {
  it('cuts the test corpus into more blocks than the budget holds', () => {
    expect(manifest.passages.rowsPerBlock).toBe(ROWS_PER_BLOCK);
    expect(blocks).toHaveLength(BLOCKS);
  });

  it('answers every passage with its own text while holding no more blocks than the budget', async () => {
    const budget = twoBlocks();
    const { index } = await open(budget);
    for (const [row, doc] of documents.entries()) {
      expect(await findText(index, row)).toBe(doc.text);
      expect(index.memory.passageBlocks).toBeLessThanOrEqual(2);
      expect(index.memory.passageBytes).toBeLessThanOrEqual(budget);
    }
  });

  it('fetches an evicted block again when a hit lands in it, and a held one only once', async () => {
    const { index, reads } = await open(twoBlocks());
    await findText(index, 0);
    await findText(index, 1);
    expect(reads.get(blockKey(0))).toBe(1);
    for (const row of ELSEWHERE) await findText(index, row);
    expect(await findText(index, 0)).toBe(documents[0]?.text);
    expect(reads.get(blockKey(0))).toBe(2);
  });

  it('returns the right texts for a result list spread over more blocks than the budget holds', async () => {
    const { index } = await open(0);
    const rows = [0, 79, 158, 237, 383];
    const found = await index.search(rows.map((r) => `zq${r}x`).join(' '), { mode: 'lexical', k: 5 });
    expect(found.map((p) => p.text).sort()).toEqual(rows.map((r) => documents[r]?.text).sort());
    expect(index.memory.passageBlocks).toBe(1);
  });

  it('verifies the checksum of a block fetched again: a file changed since is refused', async () => {
    const { index } = await open(twoBlocks());
    await findText(index, 0);
    for (const row of ELSEWHERE) await findText(index, row);
    const block = blocks[0] as FileRange;
    const file = join(dir, pathOf(block));
    const original = readFileSync(file);
    // Same length, other bytes: only the checksum can tell.
    const changed = Buffer.from(original);
    const at = block.offset + Math.floor(block.length / 2);
    changed[at] = (changed[at] ?? 0) ^ 1;
    writeFileSync(file, changed);
    try {
      await expect(findText(index, 0)).rejects.toThrow(`index file ${pathOf(block)} bytes`);
      await expect(findText(index, 0)).rejects.toThrow(/are corrupt/);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('trim frees every held block and lexical page; the next hit fetches its block again', async () => {
    const { index, reads } = await open();
    await findText(index, 0);
    await findText(index, 383);
    const { passageBytes, lexicalBytes } = index.memory;
    expect(passageBytes).toBeGreaterThan(0);
    expect(lexicalBytes).toBeGreaterThan(0);
    expect(index.trim()).toBe(passageBytes + lexicalBytes);
    expect(index.memory).toMatchObject({ passageBlocks: 0, passageBytes: 0, lexicalBytes: 0 });
    expect(await findText(index, 383)).toBe(documents[383]?.text);
    expect(reads.get(blockKey(383))).toBe(2);
  });

  it('prefetch reads every block and lexical range once and keeps no block in memory', async () => {
    const { index, reads } = await open(twoBlocks());
    await index.prefetch();
    for (let block = 0; block < BLOCKS; block++) expect(reads.get(blockKey(block * ROWS_PER_BLOCK)), `block ${block}`).toBe(1);
    for (const [key, count] of reads) expect(count, key).toBe(1);
    expect(index.memory.passageBlocks).toBe(0);
  });

  it('after a prefetch into a cache, searches read nothing more from disk', async () => {
    const store = new Map<string, Uint8Array>();
    const cache: ShardCache = {
      get: async (key) => store.get(key)?.slice(),
      put: async (key, bytes) => {
        store.set(key, bytes.slice());
      },
      delete: async (key) => {
        store.delete(key);
      },
    };
    const { index, total } = await open(undefined, cache);
    await index.prefetch();
    const before = total();
    for (const row of [0, 200, 383]) expect(await findText(index, row)).toBe(documents[row]?.text);
    expect(total()).toBe(before);
  });

  it('refuses a budget that is not a number of bytes', async () => {
    await expect(open(Number.NaN)).rejects.toThrow(/budget/);
    await expect(open(-1)).rejects.toThrow(/budget/);
  });
});
