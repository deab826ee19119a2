/** The builder's worker-thread pool gives exactly the vectors the embedder gives in-process. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbedderPool } from '../../index-builder/embed-pool.ts';
import { loadEmbedder } from '../../index-builder/embedders.ts';

let pool: EmbedderPool;

beforeAll(async () => {
  pool = await EmbedderPool.start({ kind: 'use-lite' }, 2);
});

afterAll(() => pool?.dispose());

describe('the embedding pool', () => {
  it('embeds concurrent batches on two threads, identically to one embedder in-process', async () => {
    const texts = Array.from({ length: 12 }, (_, i) => `Passage ${i} about the river town founded in ${1700 + i}.`);
    const batches = [texts.slice(0, 4), texts.slice(4, 8), texts.slice(8)];
    const pooled = (await Promise.all(batches.map((b) => pool.embed(b, 'passage')))).flat();
    const local = await loadEmbedder({ kind: 'use-lite' });
    try {
      const expected = await local?.instance.embed(texts, 'passage');
      expect(pool).toMatchObject({ id: 'use-lite', dimension: 512, parallelism: 2 });
      expect(pooled.map((v) => Array.from(v))).toEqual(expected?.map((v) => Array.from(v)));
    } finally {
      await local?.instance.dispose();
    }
  });

  it("fails to start with the embedder's own error", async () => {
    await expect(EmbedderPool.start({ kind: 'e5', model: 'missing-model', modelDir: '/nonexistent' }, 2)).rejects.toThrow('could not load the embedding model missing-model');
  });
});
