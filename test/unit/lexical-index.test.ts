/** The lexical (BM25) index on the whole demo corpus, written by the index builder and opened from its
 * folder as the search CLI and the retrieval worker open it. */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, MANIFEST_FILE } from '../../index-builder/build.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { readPassages } from '../../index-builder/sources.ts';
import type { ShardedIndex } from '../../src/retrieval/sharded-index.ts';
import { HOTPOT_PATH, hotpotQuestions } from '../shared-data.ts';

let dir = '';
let index: ShardedIndex;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sdg-lexical-'));
  const { documents } = await readPassages(HOTPOT_PATH);
  const input = { name: 'demo corpus', source: { kind: 'jsonl' as const, file: 'demo.jsonl', sha256: '0'.repeat(64) }, documents, chunkWords: 100 };
  await buildIndex(input, { outDir: dir, embedder: null, shardBytes: 2 * 1024 * 1024, cacheDir: join(dir, '.cache') });
  index = await openIndexFolder(dir);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of the index whose dictionary file is changed by `damage`. */
function withDictionary(damage: (bytes: Buffer) => Buffer, updateManifest: boolean): { copy: string; path: string } {
  const copy = mkdtempSync(join(tmpdir(), 'sdg-lexical-damaged-'));
  cpSync(dir, copy, { recursive: true });
  const manifest = readManifest(copy);
  const { path } = manifest.lexical.dictionary;
  const bytes = damage(readFileSync(join(copy, path)));
  writeFileSync(join(copy, path), bytes);
  if (updateManifest) {
    const dictionary = { path, bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
    writeFileSync(join(copy, MANIFEST_FILE), JSON.stringify({ ...manifest, lexical: { ...manifest.lexical, dictionary } }));
  }
  return { copy, path };
}

describe('the lexical index on the whole demo corpus', () => {
  it('finds the gold paragraphs of the shared questions in its top 5', async () => {
    const questions = hotpotQuestions(400);
    let recall = 0;
    for (const q of questions) {
      const gold = new Set(q.contexts.filter((c) => c.is_supporting).map((c) => c.title));
      const titles = new Set((await index.search(q.question_text, { mode: 'lexical', k: 5 })).map((p) => p.title));
      recall += [...gold].filter((t) => titles.has(t)).length / gold.size;
    }
    // 0.771 with this index; MiniSearch's BM25 measured 0.744, ../shared/DESIGN.md's BM25 reference is 0.731.
    expect(recall / questions.length).toBeGreaterThan(0.72);
  });

  it('refuses a dictionary file changed on disk, naming the file', async () => {
    const { copy, path } = withDictionary((bytes) => {
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
      return bytes;
    }, false);
    try {
      await expect(openIndexFolder(copy)).rejects.toThrow(`index shard ${path} is corrupt`);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('refuses a dictionary cut short even when the manifest vouches for it', async () => {
    const { copy } = withDictionary((bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)), true);
    try {
      await expect(openIndexFolder(copy)).rejects.toThrow(/the term dictionary dictionary-000-[0-9a-f]{12}\.bin is malformed/);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
