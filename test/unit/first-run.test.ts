/**
 * `npm run dev`'s first run: the demo's lexical index is served at once and its vectors are embedded
 * after. A lexical-only demo is partial (embedded, never rebuilt), and the page reads the builder's
 * progress file however it finds it.
 */
import { describe, expect, it } from 'vitest';
import { builderKey } from '../../index-builder/build.ts';
import { demoIndexState } from '../../index-builder/demo-state.ts';
import { embeddingLabel, embeddingProgressUrl, parseEmbeddingProgress } from '../../src/core/index/embedding-progress.ts';
import type { IndexManifest } from '../../src/core/index/index-manifest.ts';

const SHA = 'a'.repeat(64);
const keys = { complete: builderKey(100, 2 << 20, 'use-lite'), lexical: builderKey(100, 2 << 20, null) };
const vectors: IndexManifest['vectors'] = {
  embedder: { kind: 'use-lite', id: 'use-lite', model: 'use-lite', dimension: 512 },
  encoding: 'int8',
  shards: [{ path: 'vectors-000-000000000000.bin', bytes: 516, sha256: SHA, first: 0, count: 1 }],
};
const manifest = (builder: string, withVectors: boolean, sha256 = SHA) => ({ source: { kind: 'jsonl' as const, file: 'demo.jsonl', sha256 }, builder, vectors: withVectors ? vectors : null });

describe('the demo index state', () => {
  it('is complete with its vectors, partial without them, whatever the order of the runs', () => {
    expect(demoIndexState(manifest(keys.complete, true), SHA, keys)).toBe('complete');
    expect(demoIndexState(manifest(keys.lexical, false), SHA, keys)).toBe('partial');
  });

  it('is stale when the source or the settings changed, or nothing is there', () => {
    expect(demoIndexState(null, SHA, keys)).toBe('stale');
    expect(demoIndexState(manifest(keys.lexical, false, 'b'.repeat(64)), SHA, keys)).toBe('stale');
    expect(demoIndexState(manifest(builderKey(200, 2 << 20, null), false), SHA, keys)).toBe('stale');
    expect(demoIndexState(manifest(builderKey(100, 2 << 20, 'e5'), true), SHA, keys)).toBe('stale');
  });
});

describe('the embedding progress file', () => {
  it('reads what the builder writes', () => {
    const progress = parseEmbeddingProgress({ embedded: 1106, total: 4427 });
    expect(progress).toEqual({ embedded: 1106, total: 4427 });
    expect(progress && embeddingLabel(progress)).toBe('dense search: embedding, 24%');
  });

  it('says 100% only when every passage is embedded', () => {
    expect(embeddingLabel({ embedded: 4426, total: 4427 })).toBe('dense search: embedding, 99%');
    expect(parseEmbeddingProgress({ embedded: 5000, total: 4427 })).toEqual({ embedded: 4427, total: 4427 });
  });

  it('is no progress when it holds anything else', () => {
    for (const json of [null, 'half', 42, [], {}, { embedded: 1 }, { embedded: -1, total: 10 }, { embedded: 1.5, total: 10 }, { embedded: 0, total: 0 }, { embedded: '3', total: 10 }]) {
      expect(parseEmbeddingProgress(json)).toBeNull();
    }
  });

  it('lies beside the manifest', () => {
    expect(embeddingProgressUrl('./index/manifest.json')).toBe('./index/embedding.json');
    expect(embeddingProgressUrl('http://127.0.0.1:5173/wiki/manifest.json?v=2')).toBe('http://127.0.0.1:5173/wiki/embedding.json');
    expect(embeddingProgressUrl('manifest.json')).toBe('embedding.json');
  });
});
