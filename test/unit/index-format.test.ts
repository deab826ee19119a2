/** The index's file formats: the manifest schema, the shard codecs and the chunker, on crafted input. */
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../index-builder/chunk.ts';
import { indexFiles, parseManifest, sumBytes } from '../../src/core/index/index-manifest.ts';
import { reciprocalRankFusion } from '../../src/retrieval/fusion.ts';
import { decodePassageShard, decodeVectorShard, encodePassageShard, encodeVectorShard } from '../../src/retrieval/shard-codec.ts';
import { dequantizeRow, normalize, quantizeInt8 } from '../../src/retrieval/vectors.ts';

const sha = (c: string) => c.repeat(64);
const file = (path: string, bytes = 10, checksum = sha('a')) => ({ path, bytes, sha256: checksum });
const shard = (path: string, first: number, count: number, bytes = 10) => ({ ...file(path, bytes), first, count });
const vectors = (shards: ReturnType<typeof shard>[]) => ({ embedder: { kind: 'use-lite', id: 'use-lite', model: 'm', dimension: 4 }, encoding: 'int8', shards });
const passages = (overrides: Record<string, unknown> = {}) => ({ count: 5, encoding: 'json-gzip-blocks', rowsPerBlock: 64, table: file('passage-table.bin'), files: [file('p0.bin')], ...overrides });
const lexical = (overrides: Record<string, unknown> = {}) => ({
  format: 'sdg-bm25',
  tokenizer: 'sdg-words-1',
  k1: 1.2,
  b: 0.75,
  impactScale: 30,
  terms: 40,
  dictionary: file('dictionary.bin', 10, sha('c')),
  files: [file('l0.bin')],
  ...overrides,
});

function manifest(overrides: Record<string, unknown> = {}) {
  return {
    format: 'sdg-index',
    version: 2,
    name: 'test',
    source: { kind: 'jsonl', file: 'x.jsonl', sha256: sha('b') },
    builder: 'sdg-index-builder/2',
    passages: passages(),
    lexical: lexical(),
    vectors: vectors([shard('v0.bin', 0, 3, 3 * 8), shard('v1.bin', 3, 2, 2 * 8)]),
    ...overrides,
  };
}

/** What the previous builder wrote: one MiniSearch JSON, passages in JSON row shards. */
const versionOne = {
  ...manifest(),
  version: 1,
  passages: { count: 5, shards: [shard('p0.json', 0, 5)] },
  lexical: { library: 'minisearch', shards: [file('l0.json')] },
};

describe('index manifest', () => {
  it('accepts a well-formed manifest', () => {
    expect(parseManifest(manifest()).passages.count).toBe(5);
  });

  it.each([
    ['a file path that leaves the index folder', { lexical: lexical({ dictionary: file('../secret') }) }, 'plain file name'],
    ['an absolute URL as file path', { passages: passages({ files: [file('https://evil.example/x')] }) }, 'plain file name'],
    ['a gap between vector shards', { vectors: vectors([shard('v0.bin', 0, 3, 24), shard('v1.bin', 4, 1, 8)]) }, 'starts at row 4, expected 3'],
    ['vector shards that do not add up', { passages: passages({ count: 6 }) }, 'hold 5 rows, the manifest says 6'],
    ['a vector shard of the wrong size', { vectors: vectors([shard('v0.bin', 0, 5, 41)]) }, 'expected 40'],
    ['a bad checksum', { passages: passages({ table: file('passage-table.bin', 10, 'xyz') }) }, 'SHA-256'],
    ['a lexical index of another format', { lexical: lexical({ format: 'minisearch' }) }, 'lexical.format'],
    ['a lexical index without files', { lexical: lexical({ files: [] }) }, 'lexical.files'],
    ['another format', { format: 'something-else' }, 'format'],
  ])('rejects %s with a message saying what is wrong', (_name, overrides, message) => {
    expect(() => parseManifest(manifest(overrides))).toThrow(message);
  });

  it('refuses an index of the previous format, saying how to rebuild it from its source file', () => {
    expect(() => parseManifest(versionOne)).toThrow('this index was built in format 1, which this app no longer reads');
    expect(() => parseManifest(versionOne)).toThrow('npm run build-index -- --input x.jsonl --out <its folder>');
  });

  it('lists every file of the index once, for a full offline copy', () => {
    const all = indexFiles(parseManifest(manifest())).map((f) => f.path);
    expect(all.sort()).toEqual(['dictionary.bin', 'l0.bin', 'p0.bin', 'passage-table.bin', 'v0.bin', 'v1.bin']);
    expect(sumBytes(indexFiles(parseManifest(manifest())))).toBe(10 * 4 + 24 + 16);
  });
});

describe('shard codecs', () => {
  it('round-trips vectors through int8 within quantisation error', () => {
    const rows = [normalize(new Float32Array([0.3, -0.2, 0.9, 0.1])), normalize(new Float32Array([-1, 0, 0, 0.5]))];
    const decoded = decodeVectorShard(encodeVectorShard(quantizeInt8(rows, 4)), 2, 4);
    rows.forEach((row, r) => dequantizeRow(decoded, r).forEach((x, i) => expect(x).toBeCloseTo(row[i] ?? NaN, 2)));
  });

  it('refuses a vector shard whose size does not match the manifest', () => {
    const bytes = encodeVectorShard(quantizeInt8([new Float32Array([1, 0, 0, 0])], 4));
    expect(() => decodeVectorShard(bytes, 2, 4)).toThrow('expected 16');
  });

  it('round-trips passages and refuses a shard with the wrong count or shape', () => {
    const docs = [{ id: 'a', title: 'T', text: 'hello <img src=x onerror=alert(1)>' }];
    expect(decodePassageShard(encodePassageShard(docs), 1)).toEqual(docs);
    expect(() => decodePassageShard(encodePassageShard(docs), 2)).toThrow('expected 2');
    expect(() => decodePassageShard(new TextEncoder().encode('[{"id": 1}]'), 1)).toThrow('malformed');
    expect(() => decodePassageShard(new Uint8Array([0xff, 0xfe]), 1)).toThrow('not valid UTF-8 JSON');
  });
});

describe('chunking', () => {
  const words = (n: number, sentence = 10) => Array.from({ length: n }, (_, i) => ((i + 1) % sentence === 0 ? `w${i}.` : `w${i}`)).join(' ');

  it('keeps a text of up to 1.5 times the target whole, with its whitespace collapsed', () => {
    expect(chunkText(`  ${words(150)}\n`, 100)).toEqual([words(150)]);
    expect(chunkText('   ', 100)).toEqual([]);
  });

  it('cuts a long text at sentence ends into pieces near the target, losing no word', () => {
    const text = words(430);
    const pieces = chunkText(text, 100);
    expect(pieces.join(' ')).toBe(text);
    for (const piece of pieces.slice(0, -1)) {
      expect(piece.endsWith('.')).toBe(true);
      expect(piece.split(' ').length).toBeGreaterThanOrEqual(70);
      expect(piece.split(' ').length).toBeLessThanOrEqual(130);
    }
    expect(pieces.at(-1)?.split(' ').length).toBeLessThanOrEqual(150);
  });

  it('cuts a text without sentence ends at exactly the target', () => {
    expect(chunkText(words(250, 1000), 100).map((p) => p.split(' ').length)).toEqual([100, 150]);
  });
});

describe('reciprocal-rank fusion', () => {
  it('ranks a passage found by both lists above ones found by one', () => {
    const fused = reciprocalRankFusion([[{ row: 1, score: 9 }, { row: 2, score: 8 }], [{ row: 3, score: 5 }, { row: 2, score: 4 }]], 3);
    expect(fused.map((r) => r.row)).toEqual([2, 1, 3]);
  });
});
