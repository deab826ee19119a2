/**
 * IVF-PQ on real vectors: the demo index's USE-lite passage vectors, built into IVF-PQ by the builder's
 * code with its default settings for their size, and queried with the 400 demo questions (embedded by
 * USE-lite as the app embeds them); recall@10 against the exact int8 scan of the same vectors.
 *
 *   npx tsx test/bench/ivf-pq-demo.ts [--index public/index --nprobe 4,8,16]
 * The demo index must have its vectors (`npm run build-index -- --demo`).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ivfPqSettings } from '../../index-builder/ivf-pq-builder.ts';
import { loadEmbedder } from '../../index-builder/embedders.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { FlatInt8Index } from '../../src/retrieval/flat-index.ts';
import { decodeVectorShard } from '../../src/retrieval/shard-codec.ts';
import { buildIvfPqIn, openIvfPqIn } from '../dense-fixtures.ts';
import { hotpotQuestions } from '../shared-data.ts';

const K = 10;
const { values } = parseArgs({ options: { index: { type: 'string', default: 'public/index' }, nprobe: { type: 'string', default: '' } } });
const indexDir = resolve(values.index);
const manifest = readManifest(indexDir);
const vectors = manifest.vectors;
if (vectors?.encoding !== 'int8') throw new Error(`${indexDir} has no int8 vectors: build the demo with npm run build-index -- --demo`);
const { dimension } = vectors.embedder;
const dir = mkdtempSync(join(tmpdir(), 'sdg-ivf-demo-'));
try {
  const exact = new FlatInt8Index(dimension);
  for (const shard of vectors.shards) {
    cpSync(join(indexDir, shard.path), join(dir, shard.path));
    exact.add(decodeVectorShard(readFileSync(join(dir, shard.path)), shard.count, dimension));
  }
  const embedder = await loadEmbedder({ kind: 'use-lite' });
  if (!embedder) throw new Error('USE-lite did not load');
  const queries = await embedder.instance.embed(hotpotQuestions(400).map((q) => q.question_text), 'query');
  await embedder.instance.dispose();
  const started = performance.now();
  const spec = buildIvfPqIn(dir, vectors.shards, dimension, ivfPqSettings(manifest.passages.count, dimension));
  const buildSeconds = (performance.now() - started) / 1000;
  const rows = [];
  for (const nprobe of values.nprobe ? values.nprobe.split(',').map(Number) : [spec.nprobe]) {
    const { index, read } = await openIvfPqIn(dir, spec);
    let found = 0;
    let coldKB = 0;
    for (const [i, query] of queries.entries()) {
      const truth = new Set(exact.search(query, K).map((hit) => hit.row));
      found += (await index.search(query, K, { nprobe })).filter((hit) => truth.has(hit.row)).length;
      if (i === 0) coldKB = read.bytes / 1024;
    }
    rows.push({ passages: manifest.passages.count, 'lists × codes': `${spec.lists} × ${spec.subquantizers}`, nprobe, rerank: spec.rerank, 'build s': Number(buildSeconds.toFixed(1)), 'recall@10': Number((found / (queries.length * K)).toFixed(3)), 'cold query KB': Math.round(coldKB), 'KB read by all': Math.round(read.bytes / 1024) });
  }
  console.log(`\nIVF-PQ on the demo's ${vectors.embedder.id} vectors (${dimension}-d), the 400 questions as queries, against the exact int8 scan:`);
  console.table(rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
