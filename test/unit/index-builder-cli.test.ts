/** The index-builder command as a user runs it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { ensureTinyBert } from '../tools/make-tiny-bert.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DUMP = fileURLToPath(new URL('../fixtures/wiki-mini.xml.bz2', import.meta.url));

function buildIndex(...args: string[]) {
  const out = mkdtempSync(join(tmpdir(), 'sdg-cli-'));
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'index-builder/cli.ts', '--out', out, '--cache-dir', join(out, '.cache'), ...args], { cwd: ROOT, encoding: 'utf8' });
  return { out, status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('npm run build-index', () => {
  it('indexes a Wikipedia dump, reporting what it skipped', () => {
    const run = buildIndex('--input', DUMP, '--embedder', 'none', '--limit', '2');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('2 articles of 2 pages -> 2 passages');
    const manifest = readManifest(run.out);
    expect(manifest).toMatchObject({ source: { kind: 'wikipedia-dump', file: 'wiki-mini.xml.bz2' }, passages: { count: 2 }, vectors: null });
  });

  it('embeds with a transformers.js model from a local folder when asked for e5', () => {
    const model = ensureTinyBert();
    const run = buildIndex('--input', DUMP, '--embedder', 'e5', '--model', basename(model), '--model-dir', dirname(model));
    expect(run.status, run.stderr).toBe(0);
    const manifest = readManifest(run.out);
    expect(manifest.vectors?.embedder).toEqual({ kind: 'transformers', id: 'transformers:tiny-bert', model: 'tiny-bert', dimension: 32 });
    expect(manifest.builder).toContain('embedder=transformers:tiny-bert');
  });

  it('fails with a clear message and a non-zero exit for a missing input or a bad flag', () => {
    const missing = buildIndex('--input', '/nonexistent/corpus.jsonl');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('input file not found: /nonexistent/corpus.jsonl');
    const badFlag = buildIndex('--input', DUMP, '--embedder', 'word2vec');
    expect(badFlag.status).toBe(1);
    expect(badFlag.stderr).toContain('--embedder must be use-lite, e5, openai or none, got "word2vec"');
    const noServer = buildIndex('--input', DUMP, '--embedder', 'openai', '--model', 'e5');
    expect(noServer.status).toBe(1);
    expect(noServer.stderr).toContain('--embedder openai needs --base-url <server>');
  });

  it('builds an IVF-PQ dense index when asked, and says so', () => {
    const model = ensureTinyBert();
    const run = buildIndex('--input', DUMP, '--embedder', 'e5', '--model', basename(model), '--model-dir', dirname(model), '--dense', 'ivf-pq');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/dense index: IVF-PQ, \d+ lists, 4 code bytes a passage/);
    const manifest = readManifest(run.out);
    expect(manifest.vectors).toMatchObject({ encoding: 'ivf-pq', subquantizers: 4, count: manifest.passages.count });
    expect(manifest.builder).toContain('dense=ivf-pq');
    const badDense = buildIndex('--input', DUMP, '--embedder', 'none', '--dense', 'hnsw');
    expect(badDense.status).toBe(1);
    expect(badDense.stderr).toContain('--dense must be auto, flat or ivf-pq, got "hnsw"');
  });
});
