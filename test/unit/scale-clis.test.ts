/**
 * The commands of the scale index as a user runs them: building HotpotQA's own corpus archive, a build
 * stopped by Ctrl-C, and `npm run search` in both of its modes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pack } from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { indexFiles } from '../../src/core/index/index-manifest.ts';
import { HOTPOT_PATH } from '../shared-data.ts';
import { cli } from './helpers/cli.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCALE_CORPUS = resolve(ROOT, '../shared/tools/scale-corpus.mjs');
const tmp = (name: string) => mkdtempSync(join(tmpdir(), `sdg-${name}-`));

const buildIndex = (out: string, ...args: string[]) => cli('index-builder/cli.ts', '--out', out, '--cache-dir', join(out, '.cache'), '--embedder', 'none', ...args);

/** An archive laid out as HotpotQA distributes its corpus: a bz2 tar of bz2 JSON-lines files. */
async function abstractsArchive(dir: string): Promise<string> {
  const root = 'enwiki-20171001-pages-meta-current-withlinks-abstracts';
  const line = (id: number, title: string, text: string[]) => JSON.stringify({ id: String(id), url: `https://en.wikipedia.org/wiki?curid=${id}`, title, text, text_with_links: text });
  const member = [line(1, 'Arthur&#039;s Magazine', ["Arthur's Magazine (1844–1846) was an American literary periodical", ' published in Philadelphia.']), '{broken', line(2, 'First for Women', ['First for Women is a woman\'s magazine published by Bauer Media Group.'])].join('\n');
  const archive = pack();
  archive.entry({ name: `${root}/AA/wiki_00.bz2` }, execFileSync('bzip2', ['-c'], { input: member }));
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  const path = join(dir, `${root}.tar.bz2`);
  writeFileSync(path, execFileSync('bzip2', ['-c'], { input: Buffer.concat(chunks) }));
  return path;
}

describe('npm run build-index at scale', () => {
  it("reads HotpotQA's corpus archive as distributed, reporting the bad line by file and number", async () => {
    const dir = tmp('abstracts');
    const run = buildIndex(join(dir, 'index'), '--input', await abstractsArchive(dir));
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('2 articles in 1 files -> 2 passages');
    expect(run.stderr).toMatch(/line 2: .*wiki_00\.bz2.*not valid JSON/);
    const manifest = readManifest(join(dir, 'index'));
    expect(manifest).toMatchObject({ source: { kind: 'hotpotqa-abstracts' }, passages: { count: 2 } });
    const search = cli('src/cli/search.ts', '--index', join(dir, 'index'), '--k', '1', 'Arthurs magazine Philadelphia');
    expect(search.stdout).toContain("Arthur's Magazine");
  });

  it('stopped by Ctrl-C, leaves the last complete index whole, and builds again from the start', async () => {
    const dir = tmp('interrupt');
    const out = join(dir, 'index');
    const small = buildIndex(out, '--input', HOTPOT_PATH);
    expect(small.status, small.stderr).toBe(0);
    const before = readManifest(out);
    const corpus = join(dir, 'corpus.jsonl');
    execFileSync(process.execPath, [SCALE_CORPUS, '--distractors', '60000', '--out', corpus, '--questions', HOTPOT_PATH]);
    const child = spawn(process.execPath, ['--import', 'tsx', 'index-builder/cli.ts', '--out', out, '--cache-dir', join(out, '.cache'), '--embedder', 'none', '--input', corpus], { cwd: ROOT });
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      // One Ctrl-C, once it is reading the big corpus, well before it could finish.
      if (!interrupted && /indexing corpus\.jsonl/.test(stderr)) interrupted = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code).toBe(1);
    expect(stderr).toContain('interrupted: the last complete index (if any) is untouched');
    const after = readManifest(out);
    expect(after).toEqual(before);
    for (const file of indexFiles(after)) expect(existsSync(join(out, file.path)), file.path).toBe(true);
    const again = buildIndex(out, '--input', corpus);
    expect(again.status, again.stderr).toBe(0);
    expect(readManifest(out).passages.count).toBeGreaterThan(60_000);
  }, 120_000);
});

describe('npm run search', () => {
  let index = '';
  beforeAll(() => {
    index = join(tmp('search'), 'index');
    const run = buildIndex(index, '--input', HOTPOT_PATH);
    expect(run.status, run.stderr).toBe(0);
  });

  it('prints the top k as a table: rank, score, title, id', () => {
    const run = cli('src/cli/search.ts', '--index', index, '--k', '3', 'Arthur Roberts film editor');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/rank.*score.*title.*id/);
    expect(run.stdout).toMatch(/│ 0 +│ 1 +│ [\d.]+ +│ 'Arthur Roberts \(editor\)' +│ '[0-9a-f]{16}' +│/);
    expect(run.stdout.match(/^│ \d+/gm)).toHaveLength(3);
    expect(run.stderr).toMatch(/opened in [\d.]+ ms, [\d.]+ KB read/);
  });

  it('answers a file of queries with one JSON line each on stdout, logs on stderr', () => {
    const queries = join(tmp('queries'), 'q.txt');
    writeFileSync(queries, "Arthur's Magazine First for Women\n\nthe of and\nWhich city hosted the games\n");
    const run = cli('src/cli/search.ts', '--index', index, '--k', '2', '--queries', queries);
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { query: string; ms: number; hits: { id: string; title: string; score: number }[] });
    expect(lines.map((l) => l.query)).toEqual(["Arthur's Magazine First for Women", 'the of and', 'Which city hosted the games']);
    expect(lines[0]?.hits).toHaveLength(2);
    expect(lines[0]?.hits[0]).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), title: expect.any(String), score: expect.any(Number) });
    expect(lines[1]?.hits).toEqual([]);
    expect(run.stderr).toMatch(/3 queries: p50 [\d.]+ ms, p95 [\d.]+ ms/);
  });

  it('says how to use it, and what is wrong with an index folder, with a non-zero exit', () => {
    expect(cli('src/cli/search.ts', '--index', index).stderr).toContain('usage: npm run search');
    const missing = cli('src/cli/search.ts', '--index', '/nonexistent', 'query');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no readable index in /nonexistent');
  });
});
