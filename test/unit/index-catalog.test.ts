import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registerIndex } from '../../index-builder/catalog.ts';
import { parseCatalog } from '../../src/core/index/index-catalog.ts';
import { parseManifest } from '../../src/core/index/index-manifest.ts';

const sha = 'a'.repeat(64);
const manifest = (name: string, embedder: string | null) =>
  parseManifest({
    format: 'sdg-index',
    version: 2,
    name,
    source: { kind: 'jsonl', file: 'x', sha256: sha },
    builder: 'b',
    passages: { count: 2, encoding: 'json-gzip-blocks', rowsPerBlock: 64, table: { path: 't.bin', bytes: 1, sha256: sha }, files: [{ path: 'p.bin', bytes: 1, sha256: sha }] },
    lexical: { format: 'sdg-bm25', tokenizer: 'sdg-words-1', k1: 1.2, b: 0.75, impactScale: 30, terms: 2, dictionary: { path: 'd.bin', bytes: 1, sha256: sha }, files: [{ path: 'l.bin', bytes: 1, sha256: sha }] },
    vectors: embedder ? { embedder: { kind: 'transformers', id: embedder, model: 'm', dimension: 2 }, encoding: 'int8', shards: [{ path: 'v.bin', bytes: 12, sha256: sha, first: 0, count: 2 }] } : null,
  });

function built(publicDir: string, folder: string, name: string, embedder: string | null) {
  mkdirSync(join(publicDir, folder), { recursive: true });
  writeFileSync(join(publicDir, folder, 'manifest.json'), '{}');
  return registerIndex(publicDir, join(publicDir, folder), manifest(name, embedder));
}

describe('the index catalogue in public/indexes.json', () => {
  it('lists every index built under public/, the demo first, replacing rebuilt ones and dropping deleted ones', () => {
    const pub = mkdtempSync(join(tmpdir(), 'sdg-public-'));
    built(pub, 'wiki-e5', 'Wikipedia (e5)', 'transformers:Xenova/e5-small-v2');
    built(pub, 'old', 'Old', null);
    built(pub, 'index', 'Demo', 'use-lite');
    built(pub, 'index', 'Demo, rebuilt', 'use-lite');
    rmSync(join(pub, 'old'), { recursive: true });
    built(pub, 'nested/more', 'Nested', null);
    const catalog = parseCatalog(JSON.parse(readFileSync(join(pub, 'indexes.json'), 'utf8')));
    expect(catalog).toEqual([
      { path: 'index/manifest.json', name: 'Demo, rebuilt', passages: 2, embedder: 'use-lite' },
      { path: 'nested/more/manifest.json', name: 'Nested', passages: 2, embedder: null },
      { path: 'wiki-e5/manifest.json', name: 'Wikipedia (e5)', passages: 2, embedder: 'transformers:Xenova/e5-small-v2' },
    ]);
  });

  it('leaves out an index built outside public/, which the app cannot serve', () => {
    const pub = mkdtempSync(join(tmpdir(), 'sdg-public-'));
    expect(registerIndex(pub, join(tmpdir(), 'elsewhere'), manifest('x', null))).toBeNull();
    expect(registerIndex(pub, pub, manifest('x', null))).toBeNull();
  });

  it('treats a malformed or hostile catalogue as empty', () => {
    expect(parseCatalog({ indexes: [{ path: '../../etc/passwd', name: 'x', passages: 1, embedder: null }] })).toEqual([]);
    expect(parseCatalog({ indexes: [{ path: 'https://evil.example/m.json', name: 'x', passages: 1, embedder: null }] })).toEqual([]);
    expect(parseCatalog('not json')).toEqual([]);
  });
});
