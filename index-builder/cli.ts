/**
 * index-builder: turns a passage corpus into the files the app loads.
 *
 *   npm run build-index -- --input <file.jsonl> [--out public/index]
 *   npm run build-index -- --demo      (the demo index from ../shared/data, skipped when it is current)
 *
 * This first version writes one deduplicated passages.jsonl that the app indexes in memory (BM25);
 * sharded dense + lexical indexes come with the retrieval issue.
 */
import { existsSync, mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readPassages } from './sources.ts';
import { errorMessage } from '../src/core/error-message.ts';

const DEMO_SOURCE = resolve(import.meta.dirname, '../../shared/data/hotpotqa_dev_distractor_400.jsonl');
const OUTPUT_FILE = 'passages.jsonl';

async function build(input: string, outDir: string): Promise<void> {
  if (!existsSync(input)) throw new Error(`input file not found: ${input}`);
  const report = await readPassages(input);
  if (report.documents.length === 0) throw new Error(`${input} holds no valid passages (${report.skipped.length} bad lines)`);
  mkdirSync(outDir, { recursive: true });
  const target = join(outDir, OUTPUT_FILE);
  // Written beside the target and renamed, so a killed build never leaves a half-written index.
  writeFileSync(`${target}.partial`, report.documents.map((d) => JSON.stringify(d)).join('\n') + '\n');
  renameSync(`${target}.partial`, target);
  console.log(`${report.documents.length} passages from ${report.lines} lines (${report.duplicates} duplicates merged) -> ${target}`);
  if (report.skipped.length) {
    console.warn(`${report.skipped.length} lines skipped:`);
    for (const s of report.skipped.slice(0, 10)) console.warn(`  line ${s.line}: ${s.reason}`);
  }
}

async function demo(outDir: string): Promise<void> {
  const target = join(outDir, OUTPUT_FILE);
  if (!existsSync(DEMO_SOURCE)) {
    if (!existsSync(target)) console.warn(`No demo corpus at ${DEMO_SOURCE}: run \`npm run build-index -- --input <file>\` to make an index.`);
    return;
  }
  if (existsSync(target) && statSync(target).mtimeMs >= statSync(DEMO_SOURCE).mtimeMs) return;
  await build(DEMO_SOURCE, outDir);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { input: { type: 'string' }, out: { type: 'string', default: 'public/index' }, demo: { type: 'boolean', default: false } },
  });
  const outDir = resolve(values.out);
  if (values.demo) return demo(outDir);
  if (!values.input) throw new Error('usage: npm run build-index -- --input <file.jsonl> [--out public/index]');
  return build(resolve(values.input), outDir);
}

main().catch((error: unknown) => {
  console.error(`index-builder: ${errorMessage(error)}`);
  process.exit(1);
});
