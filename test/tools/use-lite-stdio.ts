/**
 * USE-lite over stdin/stdout, for the FAISS retrieval server (faiss-retrieval-server.py), which has no
 * embedder of its own in Python here: one JSON array of texts a line in, one JSON array of vectors a
 * line out. Prints `ready` once the model is loaded.
 */
import { createInterface } from 'node:readline';
import { loadUseLite } from '../../index-builder/use-lite-files.ts';

async function main(): Promise<void> {
  const embedder = await loadUseLite();
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const texts = JSON.parse(line) as string[];
    const vectors = await embedder.embed(texts, 'query');
    process.stdout.write(`${JSON.stringify(vectors.map((v) => Array.from(v)))}\n`);
  }
  await embedder.dispose();
}

void main();
