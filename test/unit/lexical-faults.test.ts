/**
 * Bad index bytes and hostile queries against a real index (the demo corpus, lexical only): a corrupt
 * dictionary page or posting list is an error naming the file, after exactly one refetch, never a wrong
 * answer; a truncated dictionary file is refused on open; huge, stop-word-only and unknown-word queries
 * answer within bounds.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex } from '../../index-builder/build.ts';
import { fileFetch } from '../../index-builder/file-fetch.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { readPassages } from '../../index-builder/sources.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import { rangeSource } from '../../src/retrieval/range-source.ts';
import { ShardedIndex } from '../../src/retrieval/sharded-index.ts';
import { shardSource } from '../../src/retrieval/shard-source.ts';
import { HOTPOT_PATH } from '../shared-data.ts';

let dir = '';
let documents: Document[] = [];
const copies: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdg-faults-'));
  documents = (await readPassages(HOTPOT_PATH)).documents;
  await buildIndex({ name: 'demo', source: { kind: 'jsonl', file: 'demo.jsonl', sha256: '0'.repeat(64) }, documents, chunkWords: 100 }, { outDir: dir, embedder: null, shardBytes: 256 * 1024, cacheDir: join(dir, '.cache') });
});

afterAll(() => [dir, ...copies].forEach((d) => d && rmSync(d, { recursive: true, force: true })));

/** A copy of the index with every byte of its lexical files flipped after the first `keep`. */
function damaged(edit: (bytes: Buffer) => Buffer, pick: 'lexical' | 'dictionary'): string {
  const copy = mkdtempSync(join(tmpdir(), 'sdg-faults-copy-'));
  copies.push(copy);
  cpSync(dir, copy, { recursive: true });
  const { lexical } = readManifest(copy);
  for (const file of pick === 'lexical' ? lexical.files : [lexical.dictionary]) writeFileSync(join(copy, file.path), edit(readFileSync(join(copy, file.path))));
  return copy;
}

/** Opens `folder` through a fetch that counts the requests per file name. */
async function openCounting(folder: string): Promise<{ index: ShardedIndex; requests: Map<string, number> }> {
  const requests = new Map<string, number>();
  const counting: typeof fetch = (input, init) => {
    const name = new URL(String(input)).pathname.split('/').pop() ?? '';
    requests.set(name, (requests.get(name) ?? 0) + 1);
    return fileFetch(input, init);
  };
  const base = pathToFileURL(`${folder}/`);
  const index = await ShardedIndex.open(readManifest(folder), { fetchShard: shardSource({ base, fetch: fileFetch }), fetchRange: rangeSource({ base, fetch: counting }), embedder: null });
  return { index, requests };
}

describe('a damaged lexical index', () => {
  it('fails a query that reads a corrupt page or posting list, naming the file, after one refetch', async () => {
    const flipped = damaged((bytes) => bytes.map((b) => b ^ 0x5a) as Buffer, 'lexical');
    const { index, requests } = await openCounting(flipped);
    const error = await index.search('Arthur magazine women', { mode: 'lexical', k: 5 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(/index file lexical-\d{3}-[0-9a-f]{12}\.bin bytes \d+–\d+ are corrupt .*also when fetched again/);
    const lexicalRequests = [...requests].filter(([name]) => name.startsWith('lexical-'));
    expect(lexicalRequests.length).toBeGreaterThan(0);
    // Each range was asked for twice (the fetch and its one retry) and no more.
    for (const [, count] of lexicalRequests) expect(count % 2).toBe(0);
  });

  it('refuses a truncated dictionary file on open, naming it', async () => {
    const truncated = damaged((bytes) => bytes.subarray(0, bytes.length - 7), 'dictionary');
    await expect(openIndexFolder(truncated)).rejects.toThrow(/index shard dictionary-000-[0-9a-f]{12}\.bin is corrupt/);
  });
});

describe('copying an index for offline use', () => {
  it('copies every range of an index under the bound, and none of one over it', async () => {
    const small = await openCounting(dir);
    expect(await small.index.prefetch(undefined, small.index.bytes)).toBe(true);
    const copied = [...small.requests.values()].reduce((a, b) => a + b, 0);
    expect(copied).toBeGreaterThan(readManifest(dir).passages.count / 64);
    const large = await openCounting(dir);
    expect(await large.index.prefetch(undefined, large.index.bytes - 1)).toBe(false);
    expect(large.requests.size).toBe(0);
  });
});

describe('hostile queries', () => {
  let index: ShardedIndex;
  beforeAll(async () => {
    index = await openIndexFolder(dir);
  });

  it('answers a 1,000-word query with passages holding its words', async () => {
    const words = documents.slice(0, 200).flatMap((d) => d.text.split(/\s+/).slice(0, 5));
    const hits = await index.search(words.slice(0, 1000).join(' '), { mode: 'lexical', k: 5 });
    expect(hits).toHaveLength(5);
  });

  it('answers nothing, not everything, to stop words only and to unknown words', async () => {
    expect(await index.search('the of and in a was is', { mode: 'lexical', k: 5 })).toEqual([]);
    expect(await index.search('zzqxv wwkkjj', { mode: 'lexical', k: 5 })).toEqual([]);
    expect(await index.search('!!! ??? ...', { mode: 'lexical', k: 5 })).toEqual([]);
  });

  it('finds an accented title typed without its accents', async () => {
    const accented = documents.find((d) => /[À-ÿ]/.test(d.title) && d.title.split(' ').length >= 2);
    if (!accented) throw new Error('the demo corpus has no accented title');
    const plain = accented.title.normalize('NFD').replace(/\p{M}/gu, '');
    expect(plain).not.toBe(accented.title);
    const hits = await index.search(plain, { mode: 'lexical', k: 10 });
    expect(hits.map((hit) => hit.title)).toContain(accented.title);
  });
});
