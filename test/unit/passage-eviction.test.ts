/** Passage shards under a memory budget: dropped least recently used, fetched again (checksum-verified)
 * when a hit lands in them, and freed on demand. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../index-builder/build.ts';
import { fileFetch } from '../../index-builder/file-fetch.ts';
import type { IndexManifest } from '../../src/core/index-manifest.ts';
import type { Document } from '../../src/core/retriever.ts';
import { ShardedIndex } from '../../src/retrieval/sharded-index.ts';
import { shardSource, type FetchShard } from '../../src/retrieval/shard-source.ts';

const FILLER = 'river stone bridge valley harbour lantern meadow orchard granite compass';
/** Each passage has one word no other has, so a lexical search for it finds exactly that passage. */
const documents: Document[] = Array.from({ length: 60 }, (_, i) => ({ id: `d${i}`, title: `Place ${i}`, text: `The only passage naming zq${i}x. ${FILLER} ${FILLER}` }));

let dir = '';
let manifest: IndexManifest;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdg-eviction-'));
  const input = { name: 'eviction', source: { kind: 'jsonl' as const, file: 'x.jsonl', sha256: '0'.repeat(64) }, documents, chunkWords: 100 };
  ({ manifest } = await buildIndex(input, { outDir: dir, embedder: null, shardBytes: 2048, cacheDir: join(dir, '.cache') }));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The index over a shard source that counts its fetches by shard file. */
async function open(passageBudgetBytes?: number) {
  const source = shardSource({ base: pathToFileURL(`${dir}/`), fetch: fileFetch });
  const fetches = new Map<string, number>();
  const fetchShard: FetchShard = (file, onBytes) => {
    fetches.set(file.path, (fetches.get(file.path) ?? 0) + 1);
    return source(file, onBytes);
  };
  const index = await ShardedIndex.open(manifest, { fetchShard, embedder: null, ...(passageBudgetBytes !== undefined && { passageBudgetBytes }) });
  return { index, fetches };
}

const shardOf = (row: number) => manifest.passages.shards.find((s) => row >= s.first && row < s.first + s.count);
/** A budget holding the two largest passage shards. */
const twoShards = () => [...manifest.passages.shards].sort((a, b) => b.bytes - a.bytes).slice(0, 2).reduce((sum, s) => sum + s.bytes, 0);

async function findText(index: ShardedIndex, row: number): Promise<string | undefined> {
  const [top] = await index.search(`zq${row}x`, { mode: 'lexical', k: 1 });
  return top?.text;
}

describe('passage shards under a memory budget', () => {
  it('splits the test corpus into more shards than the budget holds', () => {
    expect(manifest.passages.shards.length).toBeGreaterThanOrEqual(5);
  });

  it('answers every passage with its own text while holding no more shards than the budget', async () => {
    const budget = twoShards();
    const { index } = await open(budget);
    for (const [row, doc] of documents.entries()) {
      expect(await findText(index, row)).toBe(doc.text);
      expect(index.memory.passageShards).toBeLessThanOrEqual(2);
      expect(index.memory.passageBytes).toBeLessThanOrEqual(budget);
    }
  });

  it('fetches an evicted shard again when a hit lands in it, and a held one only once', async () => {
    const { index, fetches } = await open(twoShards());
    const first = shardOf(0)?.path ?? '';
    await findText(index, 0);
    await findText(index, 1);
    expect(fetches.get(first)).toBe(1);
    for (const row of [20, 40, 59]) await findText(index, row);
    expect(await findText(index, 0)).toBe(documents[0]?.text);
    expect(fetches.get(first)).toBe(2);
  });

  it('returns the right texts for a result list spread over more shards than the budget holds', async () => {
    const { index } = await open(0);
    const rows = [0, 15, 30, 45, 59];
    const found = await index.search(rows.map((r) => `zq${r}x`).join(' '), { mode: 'lexical', k: 5 });
    expect(found.map((p) => p.text).sort()).toEqual(rows.map((r) => documents[r]?.text).sort());
    expect(index.memory.passageShards).toBe(1);
  });

  it('verifies the checksum of a shard fetched again: a file changed since is refused', async () => {
    const { index } = await open(twoShards());
    const path = shardOf(0)?.path ?? '';
    await findText(index, 0);
    for (const row of [20, 40, 59]) await findText(index, row);
    const file = join(dir, path);
    const original = readFileSync(file, 'utf8');
    // Same length, other bytes: only the checksum can tell.
    writeFileSync(file, original.replace('zq0x', 'zq0y'));
    try {
      await expect(findText(index, 0)).rejects.toThrow(/corrupt/);
    } finally {
      writeFileSync(file, original);
    }
  });

  it('trim frees every held shard; the next hit fetches its shard again', async () => {
    const { index, fetches } = await open();
    await findText(index, 0);
    await findText(index, 59);
    const held = index.memory.passageBytes;
    expect(held).toBeGreaterThan(0);
    expect(index.evictPassages()).toBe(held);
    expect(index.memory).toMatchObject({ passageShards: 0, passageBytes: 0 });
    expect(await findText(index, 59)).toBe(documents[59]?.text);
    expect(fetches.get(shardOf(59)?.path ?? '')).toBe(2);
  });

  it('prefetch fetches every shard once but keeps only what fits the budget', async () => {
    const budget = twoShards();
    const { index, fetches } = await open(budget);
    await index.prefetch();
    expect([...fetches.keys()].filter((p) => p.startsWith('passages'))).toHaveLength(manifest.passages.shards.length);
    for (const shard of manifest.passages.shards) expect(fetches.get(shard.path), shard.path).toBe(1);
    expect(index.memory.passageBytes).toBeLessThanOrEqual(budget);
    expect(index.memory.passageShards).toBeGreaterThan(0);
  });

  it('prefetch with the default budget keeps a small index whole, so searches fetch nothing more', async () => {
    const { index, fetches } = await open();
    await index.prefetch();
    const before = [...fetches.values()].reduce((a, b) => a + b, 0);
    for (const row of [0, 30, 59]) expect(await findText(index, row)).toBe(documents[row]?.text);
    expect([...fetches.values()].reduce((a, b) => a + b, 0)).toBe(before);
    expect(index.memory.passageShards).toBe(manifest.passages.shards.length);
  });

  it('refuses a budget that is not a number of bytes', async () => {
    await expect(open(Number.NaN)).rejects.toThrow(/budget/);
    await expect(open(-1)).rejects.toThrow(/budget/);
  });
});
