/**
 * A fresh clone with no ../shared beside it: `npm run predev` downloads the HotpotQA file (here from a
 * fixture server on 127.0.0.1), checks it, and builds the demo's lexical index; offline it fails clearly.
 * `npm run prebuild` (and `npm run dev`'s background embedding) then adds the vectors.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { hotpotQuestions } from '../shared-data.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FILE = 'hotpot_dev_distractor_v1.json';

/** Three questions in the official file's shape: `context` is `[title, sentences]` pairs. */
const fixture = Buffer.from(
  JSON.stringify(hotpotQuestions(3).map((q, i) => ({ _id: `q${i}`, question: q.question_text, answer: q.answers_objects[0]?.spans[0] ?? '', context: q.contexts.map((c) => [c.title, [c.paragraph_text]]) }))),
);
const fixtureSha = createHash('sha256').update(fixture).digest('hex');

let server: Server;
let hits = 0;
let url = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    if (req.url === `/${FILE}`) res.writeHead(200, { 'Content-Length': fixture.byteLength }).end(fixture);
    else res.writeHead(404).end();
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/${FILE}`;
});

const clones: string[] = [];

afterAll(async () => {
  await new Promise<void>((done) => server.close(() => done()));
  for (const dir of clones) rmSync(dirname(dir), { recursive: true, force: true });
});

/** The parts of the project predev needs, with no ../shared beside it. */
function freshClone(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'sdg-clone-')), 'project');
  mkdirSync(dir);
  for (const part of ['package.json', 'index-builder', 'src']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  clones.push(dir);
  return dir;
}

/** Asynchronous: the fixture server answers from this same process while the script runs. */
function runScript(dir: string, env: Record<string, string>, script = 'predev'): Promise<{ status: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn('npm', ['run', '--silent', script], { cwd: dir, env: { ...process.env, ...env } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (status) => done({ status, output }));
  });
}

const partials = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.partial') && !f.startsWith('node_modules'));

describe('the demo index on a fresh clone', () => {
  it('downloads the corpus, verifies it, builds a lexical index that answers, embeds it after, and skips the work next time', async () => {
    const dir = freshClone();
    hits = 0;
    const first = await runScript(dir, { SDG_DEMO_CORPUS_URL: url, SDG_DEMO_CORPUS_SHA256: fixtureSha });
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain('fetching the HotpotQA development file');
    expect(hits).toBe(1);
    const indexDir = join(dir, 'public/index');
    const manifest = readManifest(indexDir);
    expect(manifest.source).toEqual({ kind: 'hotpotqa-json', file: FILE, sha256: fixtureSha });
    expect(manifest.vectors).toBeNull();
    const index = await openIndexFolder(indexDir);
    const gold = hotpotQuestions(1)[0]?.contexts.find((c) => c.is_supporting);
    const hits5 = await index.search(gold?.paragraph_text ?? '', { mode: 'lexical', k: 5 });
    expect(hits5[0]?.title).toBe(gold?.title);
    // The benchmark page's questions come with the index, in FlashRAG's shape.
    const questions = readFileSync(join(indexDir, 'questions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; golden_answers: string[] });
    expect(questions.map((q) => q.id)).toEqual(['q0', 'q1', 'q2']);

    // A lexical-only demo is partial: predev leaves it be, the full build embeds it and keeps its lexical files.
    const partial = await runScript(dir, { SDG_DEMO_CORPUS_URL: url, SDG_DEMO_CORPUS_SHA256: fixtureSha });
    expect(partial.output).not.toContain('Building');
    const full = await runScript(dir, { SDG_DEMO_CORPUS_URL: url, SDG_DEMO_CORPUS_SHA256: fixtureSha }, 'prebuild');
    expect(full.status, full.output).toBe(0);
    expect(full.output).toContain('Embedding the demo');
    const complete = readManifest(indexDir);
    expect(complete.vectors?.embedder.id).toBe('use-lite');
    expect(complete.lexical).toEqual(manifest.lexical);
    expect(complete.passages).toEqual(manifest.passages);
    expect(existsSync(join(indexDir, 'embedding.json'))).toBe(false);

    for (const script of ['predev', 'prebuild']) {
      const again = await runScript(dir, { SDG_DEMO_CORPUS_URL: url, SDG_DEMO_CORPUS_SHA256: fixtureSha }, script);
      expect(again.status, again.output).toBe(0);
      expect(again.output).not.toMatch(/Building|Embedding/);
    }
    expect(hits).toBe(1);
  });

  it('fetches a corrupt or half-downloaded copy again instead of indexing it', async () => {
    const dir = freshClone();
    const downloads = join(dir, '.cache/index-builder/downloads');
    mkdirSync(downloads, { recursive: true });
    writeFileSync(join(downloads, FILE), fixture.subarray(0, 100));
    hits = 0;
    const run = await runScript(dir, { SDG_DEMO_CORPUS_URL: url, SDG_DEMO_CORPUS_SHA256: fixtureSha });
    expect(run.status, run.output).toBe(0);
    expect(hits).toBe(1);
    expect(readFileSync(join(downloads, FILE)).equals(fixture)).toBe(true);
  });

  it('refuses a download whose checksum does not match, leaving nothing behind', async () => {
    const dir = freshClone();
    const run = await runScript(dir, { SDG_DEMO_CORPUS_URL: url, SDG_DEMO_CORPUS_SHA256: 'f'.repeat(64) });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain(`the downloaded ${FILE} is corrupt`);
    expect(existsSync(join(dir, 'public/index/manifest.json'))).toBe(false);
    expect(existsSync(join(dir, '.cache/index-builder/downloads', FILE))).toBe(false);
    expect(partials(dir)).toEqual([]);
  });

  it('with no network: a clear message, a non-zero exit, nothing half-written', async () => {
    const dir = freshClone();
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((done) => closed.close(() => done()));
    const run = await runScript(dir, { SDG_DEMO_CORPUS_URL: `http://127.0.0.1:${port}/${FILE}`, SDG_DEMO_CORPUS_SHA256: fixtureSha });
    expect(run.status).not.toBe(0);
    expect(run.output).toContain('no network and no local corpus: run `npm run build-index -- --input <file>`');
    expect(existsSync(join(dir, 'public/index'))).toBe(false);
    expect(partials(dir)).toEqual([]);
  });
});
