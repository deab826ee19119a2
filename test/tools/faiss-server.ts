/**
 * Starts faiss-retrieval-server.py (a real FAISS index behind Search-R1's /retrieve protocol) over
 * passages and their vectors, for the tests: the corpus is written in Search-R1's `{"id", "contents"}`
 * form, the vectors as raw float32, and the server embeds queries with USE-lite through
 * use-lite-stdio.ts. Needs Debian's python3-faiss and python3-numpy (.ci/run installs them).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Document } from '../../src/core/agent/retriever.ts';

const SERVER = fileURLToPath(new URL('faiss-retrieval-server.py', import.meta.url));
const EMBEDDER = fileURLToPath(new URL('use-lite-stdio.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
/** Python, FAISS and USE-lite starting on two busy cores. */
const START_TIMEOUT_MS = 60_000;

export interface FaissServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  close(): void;
}

/** Search-R1's corpus row: the title quoted on the first line of `contents`, as in its wiki-18 corpus. */
export const corpusRow = (doc: Document) => ({ id: doc.id, contents: `"${doc.title}"\n${doc.text}` });

export async function startFaissServer(dir: string, documents: readonly Document[], vectors: readonly Float32Array[]): Promise<FaissServer> {
  const dim = vectors[0]?.length ?? 0;
  writeFileSync(join(dir, 'corpus.jsonl'), documents.map((doc) => JSON.stringify(corpusRow(doc))).join('\n'));
  const flat = new Float32Array(vectors.length * dim);
  vectors.forEach((v, i) => flat.set(v, i * dim));
  writeFileSync(join(dir, 'vectors.f32'), new Uint8Array(flat.buffer));
  const args = [SERVER, '--corpus', join(dir, 'corpus.jsonl'), '--vectors', join(dir, 'vectors.f32'), '--dim', String(dim), '--embed-command', `${TSX} ${EMBEDDER}`, '--port', '0'];
  const child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const close = () => void child.kill();
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the FAISS server did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    const fail = (error: Error) => {
      clearTimeout(timer);
      close();
      reject(error);
    };
    child.once('exit', (code) => fail(new Error(`the FAISS server exited with code ${code} (is python3-faiss installed?)`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = /^listening on (\S+)/.exec(line);
      if (!match?.[1]) return;
      clearTimeout(timer);
      resolve(match[1]);
    });
  });
  return { url, close };
}
