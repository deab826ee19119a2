/**
 * Embeddings through OpenAI's /v1/embeddings against a real engine: test/tools/embedding-server.ts runs
 * the tiny BERT on ONNX Runtime behind that API (no npm or Debian package ships such a server that runs
 * here; see that file). The builder's command, its resume cache, `npm run search` and the client's
 * retries and checks all talk to it, some through a proxy that fails on purpose.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, embeddingCachePath, embeddingText } from '../../index-builder/build.ts';
import { readManifest } from '../../index-builder/manifest-file.ts';
import { openIndexFolder } from '../../index-builder/open-folder.ts';
import { readPassages } from '../../index-builder/sources.ts';
import { EmbeddingCache } from '../../index-builder/embedding-cache.ts';
import type { Document } from '../../src/core/agent/retriever.ts';
import { EmbedderSpec } from '../../src/core/index/index-manifest.ts';
import { OpenAiEmbedder, openAiSpec, type OpenAiEmbedderOptions } from '../../src/embedders/openai.ts';
import { decodeVectorShard } from '../../src/retrieval/shard-codec.ts';
import { dequantizeRow } from '../../src/retrieval/vectors.ts';
import { startEmbeddingServer, type EmbeddingServer } from '../tools/embedding-server.ts';
import { startFaultProxy, type FaultProxy } from '../tools/fault-proxy.ts';
import { hotpotQuestions } from '../shared-data.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let server: EmbeddingServer;
let proxy: FaultProxy;
let scratch = '';
let corpus = '';
let documents: Document[] = [];

beforeAll(async () => {
  server = await startEmbeddingServer();
  proxy = await startFaultProxy(server.url);
  scratch = mkdtempSync(join(tmpdir(), 'openai-embed-'));
  corpus = join(scratch, 'corpus.jsonl');
  writeFileSync(corpus, hotpotQuestions(3).map((line) => JSON.stringify(line)).join('\n'));
  ({ documents } = await readPassages(corpus));
});

afterAll(async () => {
  await proxy?.close();
  await server?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A command as a user runs it, asynchronously: the server in this process must keep answering. */
function run(script: string, args: readonly string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const unit = (values: readonly number[]) => {
  const norm = Math.hypot(...values);
  return values.map((v) => v / norm);
};
const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((sum, x, i) => sum + x * (b[i] ?? 0), 0);

/** Retries without the wait, remembering each wait asked for. */
function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
}

const connect = (options: Partial<OpenAiEmbedderOptions> = {}) => OpenAiEmbedder.connect({ baseUrl: proxy.url, model: server.model, ...options });

describe('npm run build-index -- --embedder openai', () => {
  it('embeds the passages through the server, normalised, records the server in the manifest, and npm run search embeds a query there', async () => {
    const out = join(scratch, 'built');
    const build = await run('index-builder/cli.ts', ['--input', corpus, '--out', out, '--cache-dir', join(out, '.cache'), '--embedder', 'openai', '--base-url', `${server.url}/v1/`, '--model', server.model, '--concurrency', '3', '--batch', '4', '--passage-prefix', 'passage: ', '--query-prefix', 'query: ']);
    expect(build.status, build.stderr).toBe(0);
    expect(build.stdout).toContain(`embeddings (openai:${server.model} passage-prefix="passage: "): ${documents.length} computed`);
    const manifest = readManifest(out);
    expect(manifest.vectors?.embedder).toEqual({ kind: 'openai', id: `openai:${server.model} passage-prefix="passage: "`, model: server.model, dimension: 32, baseUrl: `${server.url}/v1`, queryPrefix: 'query: ', passagePrefix: 'passage: ' });

    // What the build kept is what the engine computes for the prefixed passage, at unit length; the index
    // holds it in int8.
    const vectors = manifest.vectors;
    if (vectors?.encoding !== 'int8') throw new Error('expected flat int8 vectors');
    const spec = vectors.embedder;
    const shard = vectors.shards[0];
    if (!shard) throw new Error('no vector shards');
    const cache = EmbeddingCache.open(embeddingCachePath(join(out, '.cache'), spec), spec.id, 32);
    const stored = decodeVectorShard(new Uint8Array(readFileSync(join(out, shard.path))), shard.count, 32);
    const expected = await server.engine(documents.slice(0, 3).map((d) => `passage: ${embeddingText(d)}`));
    expect(Math.hypot(...(expected[0] ?? []))).not.toBeCloseTo(1, 2);
    expected.forEach((vector, row) => {
      const kept = Array.from(cache.get(embeddingText(documents[row] as Document)) ?? []);
      unit(vector).forEach((v, i) => expect(kept[i]).toBeCloseTo(v, 5));
      expect(cosine(dequantizeRow(stored, row), unit(vector))).toBeGreaterThan(0.99);
    });

    const before = server.served.inputs;
    const search = await run('src/cli/search.ts', ['--index', out, '--mode', 'dense', '--k', '3', documents[0]?.text ?? '']);
    expect(search.status, search.stderr).toBe(0);
    expect(search.stdout).toContain(documents[0]?.title ?? '?');
    // One probe on open, one query.
    expect(server.served.inputs - before).toBe(2);
  });

  it('resumes an interrupted build from the embedding cache, asking the server only for what it lacks', async () => {
    const out = join(scratch, 'resumed');
    const cacheDir = join(out, '.cache');
    const input = () => ({ name: 'resume', source: { kind: 'jsonl' as const, file: 'corpus.jsonl', sha256: '0'.repeat(64) }, documents, chunkWords: 100 });
    const options = { baseUrl: server.url, model: server.model };
    const instance = await OpenAiEmbedder.connect(options);
    const embedder = { instance, spec: openAiSpec(instance, options) };
    const stop = new AbortController();
    const first = buildIndex(input(), { outDir: out, embedder, shardBytes: 16 * 1024, cacheDir, batchSize: 4, signal: stop.signal, onEmbedded: (n) => n >= 8 && stop.abort() });
    await expect(first).rejects.toThrow();
    const cached = EmbeddingCache.open(embeddingCachePath(cacheDir, embedder.spec), embedder.spec.id, 32).size;
    expect(cached).toBeGreaterThanOrEqual(8);
    expect(cached).toBeLessThan(documents.length);

    const before = server.served.inputs;
    const report = await buildIndex(input(), { outDir: out, embedder, shardBytes: 16 * 1024, cacheDir, batchSize: 4 });
    expect(report).toMatchObject({ embedded: documents.length - cached, fromCache: cached });
    expect(server.served.inputs - before).toBe(documents.length - cached);
    const vectors = readManifest(out).vectors;
    expect(vectors?.encoding === 'int8' && vectors.shards.reduce((sum, s) => sum + s.count, 0)).toBe(documents.length);
  });
});

describe('the OpenAI embeddings client', () => {
  it('retries 429s (waiting at least their Retry-After), 500s and dropped connections, then embeds', async () => {
    const embedder = await connect();
    const { waits, sleep } = recordingSleep();
    const retrying = await connect({ sleep, retry: { attempts: 4 } });
    proxy.faults.push({ status: 429, retryAfter: '2' }, { status: 500 }, { drop: true });
    const [vector] = await retrying.embed(['Arthur\'s Magazine'], 'passage');
    expect(proxy.faults).toEqual([]);
    expect(waits).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(Array.from(vector ?? [])).toEqual(Array.from((await embedder.embed(['Arthur\'s Magazine'], 'passage'))[0] ?? []));
  });

  it('gives up after its attempts, saying what the server last answered', async () => {
    const embedder = await connect({ sleep: recordingSleep().sleep, retry: { attempts: 3 } });
    proxy.faults.push(...Array.from({ length: 3 }, () => ({ status: 503, body: JSON.stringify({ error: { message: 'overloaded, try later' } }) })));
    await expect(embedder.embed(['x'], 'passage')).rejects.toThrow(/after 3 attempts: HTTP 503: overloaded, try later/);
    proxy.faults.length = 0;
  });

  it('shows the server\'s message for a model it does not serve, and says when no server answers', async () => {
    await expect(connect({ model: 'intfloat/e5-large-v2' })).rejects.toThrow('the embedding server refused the model "intfloat/e5-large-v2": The model `intfloat/e5-large-v2` does not exist');
    const down = await startFaultProxy(server.url);
    await down.close();
    await expect(OpenAiEmbedder.connect({ baseUrl: down.url, model: server.model, sleep: recordingSleep().sleep })).rejects.toThrow(/could not reach the embedding server \(connect ECONNREFUSED/);
  });

  it('refuses a dimension other than --dimension, a dimension that changes, a wrong count and a wrong shape', async () => {
    await expect(connect({ dimension: 768 })).rejects.toThrow(`returns 32-dimensional vectors, but --dimension says 768`);
    const embedder = await connect();
    const answer = (data: unknown) => proxy.faults.push({ status: 200, body: JSON.stringify({ data }) });
    answer([{ index: 0, embedding: [1, 2, 3] }]);
    await expect(embedder.embed(['x'], 'passage')).rejects.toThrow('changed dimension between batches: 32 before, 3 now');
    answer([{ index: 0, embedding: Array(32).fill(1) }, { index: 1, embedding: Array(32).fill(1) }]);
    await expect(embedder.embed(['x'], 'passage')).rejects.toThrow('returned 2 embeddings for 1 texts');
    answer([{ index: 0, embedding: 'AAAA' }]);
    await expect(embedder.embed(['x'], 'passage')).rejects.toThrow(/unexpected shape \(data\.0\.embedding: /);
    proxy.faults.push({ status: 200, body: '<html>gateway</html>' });
    await expect(embedder.embed(['x'], 'passage')).rejects.toThrow('did not answer JSON');
  });

  it('finds the endpoint with or without /v1 and refuses credentials in the URL, which the manifest would publish', async () => {
    for (const baseUrl of [server.url, `${server.url}/`, `${server.url}/v1`, `${server.url}/v1/embeddings`]) {
      expect((await OpenAiEmbedder.connect({ baseUrl, model: server.model })).dimension).toBe(32);
    }
    await expect(OpenAiEmbedder.connect({ baseUrl: 'http://user:key@127.0.0.1:1/v1', model: 'm' })).rejects.toThrow('must not contain a user name or password');
    // A manifest from elsewhere cannot smuggle them in either.
    const spec = { kind: 'openai', id: 'openai:m', model: 'm', dimension: 32 };
    expect(EmbedderSpec.safeParse({ ...spec, baseUrl: 'https://gpu.example.org/v1' }).success).toBe(true);
    for (const baseUrl of ['https://user:key@gpu.example.org/v1', 'https://gpu.example.org/v1?key=1', 'javascript:alert(1)']) expect(EmbedderSpec.safeParse({ ...spec, baseUrl }).success).toBe(false);
  });
});

describe('an index whose queries a server embeds', () => {
  it('fails a dense search whose query the server cannot embed with a clear message, and keeps lexical search', async () => {
    const index = await openIndexFolder(join(scratch, 'built'), { embedder: await OpenAiEmbedder.connect({ baseUrl: proxy.url, model: server.model, passagePrefix: 'passage: ', sleep: recordingSleep().sleep, retry: { attempts: 2 } }) });
    expect(index.modes).toEqual(['hybrid', 'lexical', 'dense']);
    proxy.faults.push({ drop: true }, { drop: true });
    const query = documents[0]?.text ?? '';
    await expect(index.search(query, { mode: 'hybrid', k: 3 })).rejects.toThrow(/^hybrid search could not embed the query with openai:tiny-bert passage-prefix="passage: ": could not embed at .* after 2 attempts: could not reach the embedding server .*Lexical search still works/);
    expect((await index.search(query, { mode: 'lexical', k: 3 }))[0]?.id).toBe(documents[0]?.id);
    // Once the server answers again, so does dense search.
    expect(await index.search(query, { mode: 'dense', k: 3 })).toHaveLength(3);
  });
});
