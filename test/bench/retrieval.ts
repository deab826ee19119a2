/**
 * `npm run bench:retrieval`: recall, latency and size of retrieval on the demo index, and dense search
 * at 10k / 100k / 1M synthetic vectors. Prints tables and writes .cache/bench/retrieval.json.
 *
 *   npm run bench:retrieval [-- --questions 400 --sizes 10000,100000,1000000 --dim 384 --queries 30]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { denseScaleBench } from './dense-scale.ts';
import { retrievalQuality } from './retrieval-quality.ts';

const { values } = parseArgs({
  options: {
    questions: { type: 'string', default: '400' },
    index: { type: 'string', default: 'public/index' },
    sizes: { type: 'string', default: '10000,100000,1000000' },
    dim: { type: 'string', default: '384' },
    queries: { type: 'string', default: '30' },
    'voy-budget-s': { type: 'string', default: '200' },
  },
});
const log = (line: string) => console.error(line);

const quality = await retrievalQuality(resolve(values.index), Number(values.questions), log);
const b = quality.bytesPerPassage;
console.log(`\nDemo index: ${quality.passages} passages; bytes/passage: text ${b.text.toFixed(0)}, lexical ${b.lexical.toFixed(0)}, vectors ${b.vectors.toFixed(0)} (int8), total ${b.total.toFixed(0)}`);
console.log(`Build: USE-lite embeds ${quality.embedPassagesPerSecond.toFixed(1)} passages/s (cold build ≈ ${(quality.passages / quality.embedPassagesPerSecond).toFixed(0)} s); shards + lexical + manifest from cached embeddings ${(quality.buildWarmCacheMs / 1000).toFixed(1)} s`);
console.table(quality.rows.map((r) => ({ mode: r.mode, questions: r.questions, 'recall@5': r.recallAt5.toFixed(3), 'any gold@5': r.anyGoldAt5.toFixed(3), 'p50 ms': r.p50Ms.toFixed(1), 'p95 ms': r.p95Ms.toFixed(1) })));

const sizes = values.sizes.split(',').map(Number);
const scale = await denseScaleBench({ sizes, dimension: Number(values.dim), queries: Number(values.queries), voyBudgetMs: Number(values['voy-budget-s']) * 1000, log });
console.log(`\nDense top-10 on synthetic ${values.dim}-d vectors (${values.queries} queries each; top-1 = the query's source row ranked first):`);
const ms = (x: number) => (Number.isNaN(x) ? '–' : x.toFixed(1));
console.table(scale.map((r) => ({ index: r.index, vectors: r.vectors, 'build ms': ms(r.buildMs), 'bytes/vector': ms(r.bytesPerVector), 'p50 ms': ms(r.p50Ms), 'p95 ms': ms(r.p95Ms), 'top-1': Number.isNaN(r.top1) ? '–' : r.top1.toFixed(2), note: r.note ?? '' })));

mkdirSync('.cache/bench', { recursive: true });
writeFileSync('.cache/bench/retrieval.json', JSON.stringify({ quality, scale }, null, 1));
