/**
 * `npm run bench:retrieval`: recall, latency and size of retrieval on the demo index, and dense search
 * at 10k / 100k / 1M synthetic vectors. Prints tables and writes bench/results/retrieval.json.
 *
 *   npm run bench:retrieval [-- --questions 400]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { retrievalQuality } from './retrieval-quality.ts';

const { values } = parseArgs({ options: { questions: { type: 'string', default: '400' }, index: { type: 'string', default: 'public/index' } } });
const log = (line: string) => console.error(line);

const quality = await retrievalQuality(resolve(values.index), Number(values.questions), log);
const b = quality.bytesPerPassage;
console.log(`\nDemo index: ${quality.passages} passages; bytes/passage: text ${b.text.toFixed(0)}, lexical ${b.lexical.toFixed(0)}, vectors ${b.vectors.toFixed(0)} (int8), total ${b.total.toFixed(0)}`);
console.log(`Build: USE-lite embeds ${quality.embedPassagesPerSecond.toFixed(1)} passages/s (cold build ≈ ${(quality.passages / quality.embedPassagesPerSecond).toFixed(0)} s); shards + lexical + manifest from cached embeddings ${(quality.buildWarmCacheMs / 1000).toFixed(1)} s`);
console.table(quality.rows.map((r) => ({ mode: r.mode, questions: r.questions, 'recall@5': r.recallAt5.toFixed(3), 'any gold@5': r.anyGoldAt5.toFixed(3), 'p50 ms': r.p50Ms.toFixed(1), 'p95 ms': r.p95Ms.toFixed(1) })));

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/retrieval.json', JSON.stringify({ quality }, null, 1));
