/**
 * The index builder on a small real corpus with the real USE-lite embedder, read back through the same
 * shard source and index the retrieval worker uses.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, MANIFEST_FILE, type BuildInput, type BuildOptions } from '../../index-builder/build.ts';
import { loadEmbedder } from '../../index-builder/embedders.ts';
import { fileFetch } from '../../index-builder/file-fetch.ts';
import { readPassages } from '../../index-builder/sources.ts';
import { parseManifest, type IndexManifest } from '../../src/core/index-manifest.ts';
import { ShardedIndex } from '../../src/retrieval/sharded-index.ts';
import { shardSource } from '../../src/retrieval/shard-source.ts';
import { hotpotQuestions } from '../shared-data.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'sdg-build-'));
let embedder: Awaited<ReturnType<typeof loadEmbedder>>;
let input: BuildInput;

beforeAll(async () => {
  embedder = await loadEmbedder({ kind: 'use-lite' });
  const source = join(tmp(), 'bench.jsonl');
  writeFileSync(source, hotpotQuestions(3).map((q) => JSON.stringify(q)).join('\n'));
  const { documents } = await readPassages(source);
  input = { name: 'three questions', source: { kind: 'jsonl', file: 'bench.jsonl', sha256: 'a'.repeat(64) }, documents, chunkWords: 100 };
});

afterAll(async () => {
  await embedder?.instance.dispose();
});

function options(outDir: string, extra: Partial<BuildOptions> = {}): BuildOptions {
  return { outDir, embedder, shardBytes: 8 * 1024, cacheDir: join(outDir, '.cache'), batchSize: 4, ...extra };
}

function readManifest(dir: string): IndexManifest {
  return parseManifest(JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')));
}

function open(dir: string, withEmbedder = true) {
  const fetchShard = shardSource({ base: pathToFileURL(`${dir}/`), fetch: fileFetch });
  return ShardedIndex.open(readManifest(dir), { fetchShard, embedder: withEmbedder ? (embedder?.instance ?? null) : null });
}

describe('index builder', () => {
  let dir = '';
  beforeAll(async () => {
    dir = tmp();
    await buildIndex(input, options(dir));
  });

  it('writes bounded shards whose sizes and checksums match a valid manifest', () => {
    const manifest = readManifest(dir);
    expect(manifest.passages.count).toBe(input.documents.length);
    expect(manifest.vectors?.embedder).toMatchObject({ id: 'use-lite', dimension: 512 });
    const shards = [...manifest.passages.shards, ...manifest.lexical.shards, ...(manifest.vectors?.shards ?? [])];
    expect(manifest.passages.shards.length).toBeGreaterThan(1);
    for (const shard of shards) {
      const bytes = readFileSync(join(dir, shard.path));
      expect(bytes.byteLength).toBe(shard.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(shard.sha256);
    }
  });

  it('answers lexical, dense and hybrid queries with the passage they are about', async () => {
    const index = await open(dir);
    expect(index.modes).toEqual(['hybrid', 'lexical', 'dense']);
    const target = input.documents[7];
    if (!target) throw new Error('corpus too small');
    for (const mode of index.modes) {
      const [top] = await index.search(target.text, { mode, k: 3 });
      expect(top, mode).toMatchObject({ id: target.id, title: target.title, text: target.text });
    }
  });

  it('offers lexical search only, and says why, when the query embedder is missing', async () => {
    const index = await open(dir, false);
    expect(index.modes).toEqual(['lexical']);
    expect(index.denseUnavailable).toMatch(/use-lite/);
    await expect(index.search('anything', { mode: 'dense', k: 3 })).rejects.toThrow(/not available/);
  });

  it('rejects a corrupt shard with a clear error instead of serving it', async () => {
    const copy = tmp();
    for (const name of readdirSync(dir)) if (name !== '.cache') writeFileSync(join(copy, name), readFileSync(join(dir, name)));
    const shard = readManifest(copy).lexical.shards[0];
    if (!shard) throw new Error('no lexical shard');
    const bytes = readFileSync(join(copy, shard.path));
    bytes[10] = (bytes[10] ?? 0) ^ 1;
    writeFileSync(join(copy, shard.path), bytes);
    await expect(open(copy)).rejects.toThrow(`index shard ${shard.path} is corrupt`);
  });

  it('resumes a killed build and ends with exactly the files of a clean build', async () => {
    const resumed = tmp();
    const controller = new AbortController();
    const killAfterTwoBatches = { start: () => {}, update: (done: number) => done >= 8 && controller.abort(new Error('killed')), stop: () => {} };
    await expect(buildIndex(input, options(resumed, { signal: controller.signal, progress: killAfterTwoBatches }))).rejects.toThrow('killed');
    expect(readdirSync(resumed)).not.toContain(MANIFEST_FILE);
    const report = await buildIndex(input, options(resumed));
    expect(report.fromCache).toBe(8);
    expect(report.embedded).toBe(input.documents.length - 8);
    const files = (d: string) => readdirSync(d).filter((n) => n !== '.cache').sort();
    expect(files(resumed)).toEqual(files(dir));
    for (const name of files(dir)) expect(readFileSync(join(resumed, name)).equals(readFileSync(join(dir, name))), name).toBe(true);
  });
});
