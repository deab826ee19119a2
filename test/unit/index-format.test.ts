/** The index's file formats: the manifest schema, the shard codecs and the chunker, on crafted input. */
import { describe, expect, it } from 'vitest';
import { chunkText } from '../../index-builder/chunk.ts';
import { parseManifest } from '../../src/core/index-manifest.ts';
import { reciprocalRankFusion } from '../../src/retrieval/fusion.ts';
import { decodePassageShard, decodeVectorShard, encodePassageShard, encodeVectorShard } from '../../src/retrieval/shard-codec.ts';
import { dequantizeRow, normalize, quantizeInt8 } from '../../src/retrieval/vectors.ts';

const sha = (c: string) => c.repeat(64);
const shard = (path: string, first: number, count: number, bytes = 10) => ({ path, bytes, sha256: sha('a'), first, count });

function manifest(overrides: Record<string, unknown> = {}) {
  return {
    format: 'sdg-index',
    version: 1,
    name: 'test',
    source: { kind: 'jsonl', file: 'x.jsonl', sha256: sha('b') },
    builder: 'sdg-index-builder/1',
    passages: { count: 5, shards: [shard('p0.json', 0, 3), shard('p1.json', 3, 2)] },
    lexical: { library: 'minisearch', shards: [{ path: 'l0.json', bytes: 10, sha256: sha('c') }] },
    vectors: { embedder: { kind: 'use-lite', id: 'use-lite', model: 'm', dimension: 4 }, encoding: 'int8', shards: [shard('v0.bin', 0, 5, 5 * 8)] },
    ...overrides,
  };
}

describe('index manifest', () => {
  it('accepts a well-formed manifest', () => {
    expect(parseManifest(manifest()).passages.count).toBe(5);
  });

  it.each([
    ['a shard path that leaves the index folder', { lexical: { library: 'minisearch', shards: [{ path: '../secret', bytes: 1, sha256: sha('c') }] } }, 'plain file name'],
    ['an absolute URL as shard path', { lexical: { library: 'minisearch', shards: [{ path: 'https://evil.example/x', bytes: 1, sha256: sha('c') }] } }, 'plain file name'],
    ['a gap between shards', { passages: { count: 5, shards: [shard('p0.json', 0, 3), shard('p1.json', 4, 1)] } }, 'starts at row 4, expected 3'],
    ['shards that do not add up', { passages: { count: 6, shards: [shard('p0.json', 0, 3), shard('p1.json', 3, 2)] } }, 'hold 5 rows, the manifest says 6'],
    ['a vector shard of the wrong size', { vectors: { embedder: { kind: 'use-lite', id: 'use-lite', model: 'm', dimension: 4 }, encoding: 'int8', shards: [shard('v0.bin', 0, 5, 41)] } }, 'expected 40'],
    ['a bad checksum', { lexical: { library: 'minisearch', shards: [{ path: 'l.json', bytes: 1, sha256: 'xyz' }] } }, 'SHA-256'],
    ['another format', { format: 'something-else' }, 'format'],
  ])('rejects %s with a message saying what is wrong', (_name, overrides, message) => {
    expect(() => parseManifest(manifest(overrides))).toThrow(message);
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
