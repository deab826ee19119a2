/**
 * The index builder on a small real corpus with the real USE-lite embedder, read back through the same
 * shard and range sources and index the retrieval worker uses.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, MANIFEST_FILE, type BuildInput, type BuildOptions } from '../../index-builder/build.ts';
import { loadEmbedder } from '../../index-builder/embedders.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { readPassages } from '../../index-builder/sources.ts';
import { indexFiles, vectorFiles } from '../../src/core/index/index-manifest.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import { hotpotQuestions } from '../shared-data.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'sdg-build-'));
let embedder: Awaited<ReturnType<typeof loadEmbedder>>;
let documents: Document[] = [];
let input: BuildInput;

beforeAll(async () => {
  embedder = await loadEmbedder({ kind: 'use-lite' });
  const source = join(tmp(), 'bench.jsonl');
  writeFileSync(source, hotpotQuestions(3).map((q) => JSON.stringify(q)).join('\n'));
  ({ documents } = await readPassages(source));
  input = { name: 'three questions', source: { kind: 'jsonl', file: 'bench.jsonl', sha256: 'a'.repeat(64) }, documents, chunkWords: 100 };
});

afterAll(async () => {
  await embedder?.instance.dispose();
});

function options(outDir: string, extra: Partial<BuildOptions> = {}): BuildOptions {
  return { outDir, embedder, shardBytes: 8 * 1024, cacheDir: join(outDir, '.cache'), batchSize: 4, ...extra };
}

function open(dir: string, withEmbedder = true) {
  return openIndexFolder(dir, { embedder: withEmbedder ? (embedder?.instance ?? null) : null });
}

/** The build's embedder, killed (its build aborted) once `batches` batches are embedded and cached. */
function killedAfter(batches: number, controller: AbortController): BuildOptions['embedder'] {
  if (!embedder) throw new Error('no embedder');
  const { instance, spec } = embedder;
  let embedded = 0;
  return {
    spec,
    instance: {
      id: instance.id,
      dimension: instance.dimension,
      async embed(texts, kind) {
        const vectors = await instance.embed(texts, kind);
        if (++embedded >= batches) controller.abort(new Error('killed'));
        return vectors;
      },
      dispose: () => instance.dispose(),
    },
  };
}

function copyOf(dir: string): string {
  const copy = tmp();
  for (const name of readdirSync(dir)) if (name !== '.cache') writeFileSync(join(copy, name), readFileSync(join(dir, name)));
  return copy;
}

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] = (bytes[at] ?? 0) ^ 1;
  writeFileSync(path, bytes);
}

describe('index builder', () => {
  let dir = '';
  beforeAll(async () => {
    dir = tmp();
    await buildIndex(input, options(dir));
  });

  it('writes bounded shards whose sizes and checksums match a valid manifest', () => {
    const manifest = readManifest(dir);
    expect(manifest.passages.count).toBe(documents.length);
    expect(manifest.vectors?.embedder).toMatchObject({ id: 'use-lite', dimension: 512 });
    // The passages fit one block; their vectors (516 bytes each) are split by the 8 KB bound.
    expect(vectorFiles(manifest.vectors).length).toBeGreaterThan(1);
    for (const shard of vectorFiles(manifest.vectors)) expect(shard.bytes).toBeLessThanOrEqual(8 * 1024);
    for (const shard of indexFiles(manifest)) {
      const bytes = readFileSync(join(dir, shard.path));
      expect(bytes.byteLength).toBe(shard.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(shard.sha256);
    }
  });

  it('answers lexical, dense and hybrid queries with the passage they are about', async () => {
    const index = await open(dir);
    expect(index.modes).toEqual(['hybrid', 'lexical', 'dense']);
    const target = documents[7];
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

  it('rejects a corrupt file read on open with a clear error instead of serving it', async () => {
    const copy = copyOf(dir);
    const { dictionary } = readManifest(copy).lexical;
    flipByte(join(copy, dictionary.path), 10);
    await expect(open(copy)).rejects.toThrow(`index shard ${dictionary.path} is corrupt`);
  });

  it('rejects a corrupt range read by a query with a clear error naming the file', async () => {
    const copy = copyOf(dir);
    const [passages] = readManifest(copy).passages.files;
    if (!passages) throw new Error('no passage file');
    const index = await open(copy);
    flipByte(join(copy, passages.path), 10);
    await expect(index.search(documents[7]?.text ?? '', { mode: 'lexical', k: 3 })).rejects.toThrow(new RegExp(`index file ${passages.path.replaceAll('.', '\\.')} bytes \\d+–\\d+ are corrupt`));
  });

  it('resumes a killed build and ends with exactly the files of a clean build', async () => {
    const resumed = tmp();
    const controller = new AbortController();
    // Two batches of 4 embedded and cached, then the build is killed.
    await expect(buildIndex(input, options(resumed, { signal: controller.signal, embedder: killedAfter(2, controller) }))).rejects.toThrow('killed');
    expect(readdirSync(resumed)).not.toContain(MANIFEST_FILE);
    const report = await buildIndex(input, options(resumed));
    expect(report.fromCache).toBe(8);
    expect(report.embedded).toBe(documents.length - 8);
    const files = (d: string) => readdirSync(d).filter((n) => n !== '.cache').sort();
    expect(files(resumed)).toEqual(files(dir));
    for (const name of files(dir)) expect(readFileSync(join(resumed, name)).equals(readFileSync(join(dir, name))), name).toBe(true);
  });
});
