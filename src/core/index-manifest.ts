/**
 * The index manifest: what the builder wrote and the app loads. It is fetched over the network and
 * cached, so it is parsed as untrusted input: file names cannot leave the index folder, sizes are
 * bounded, and the shards must cover the corpus's rows exactly once, in order.
 */
import { z } from 'zod';

export const INDEX_FORMAT = 'sdg-index';
export const INDEX_VERSION = 1;

/** The largest shard a builder may write; loaders refuse bigger ones before fetching them. */
export const MAX_SHARD_BYTES = 64 * 1024 * 1024;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex SHA-256');

/** A bare file name in the index folder: no slashes, no `..`, no scheme. */
const FileName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected a plain file name');

const Count = z.number().int().nonnegative().max(100_000_000);

export const ShardFile = z.object({ path: FileName, bytes: z.number().int().positive().max(MAX_SHARD_BYTES), sha256: Sha256 });
export type ShardFile = z.infer<typeof ShardFile>;

/** A shard holding rows `first … first + count - 1` of the corpus. */
export const RowShard = ShardFile.extend({ first: Count, count: Count.min(1) });
export type RowShard = z.infer<typeof RowShard>;

export const EmbedderSpec = z.object({
  /** `use-lite` (ships with the app, runs offline) or `transformers` (an ONNX model from a hub). */
  kind: z.enum(['use-lite', 'transformers']),
  /** The embedder's stable id; the browser must embed queries with the same one. */
  id: z.string().min(1).max(200),
  model: z.string().min(1).max(200),
  dimension: z.number().int().min(1).max(4096),
});
export type EmbedderSpec = z.infer<typeof EmbedderSpec>;

export const IndexManifest = z
  .object({
    format: z.literal(INDEX_FORMAT),
    version: z.literal(INDEX_VERSION),
    name: z.string().min(1).max(200),
    source: z.object({
      kind: z.enum(['jsonl', 'hotpotqa-json', 'wikipedia-dump']),
      file: z.string().max(1_000),
      sha256: Sha256,
    }),
    /** Identifies the builder's output format and settings: a different key means the index is stale. */
    builder: z.string().min(1).max(200),
    passages: z.object({ count: Count.min(1), shards: z.array(RowShard).min(1) }),
    lexical: z.object({ library: z.literal('minisearch'), shards: z.array(ShardFile).min(1) }),
    vectors: z
      .object({ embedder: EmbedderSpec, encoding: z.literal('int8'), shards: z.array(RowShard).min(1) })
      .nullable(),
  })
  .superRefine((manifest, ctx) => {
    const count = manifest.passages.count;
    const problems = [coverage('passages', manifest.passages.shards, count), manifest.vectors && coverage('vectors', manifest.vectors.shards, count)];
    for (const message of problems) if (message) ctx.addIssue({ code: 'custom', message });
    const vectors = manifest.vectors;
    if (!vectors) return;
    for (const shard of vectors.shards) {
      if (shard.bytes !== vectorShardBytes(shard.count, vectors.embedder.dimension)) {
        ctx.addIssue({ code: 'custom', message: `vector shard ${shard.path} has ${shard.bytes} bytes, expected ${vectorShardBytes(shard.count, vectors.embedder.dimension)}` });
      }
    }
  });
export type IndexManifest = z.infer<typeof IndexManifest>;

/** A vector shard is `count` float32 scales followed by `count * dimension` int8 codes. */
export function vectorShardBytes(count: number, dimension: number): number {
  return count * (4 + dimension);
}

function coverage(kind: string, shards: readonly RowShard[], count: number): string | null {
  let next = 0;
  for (const shard of shards) {
    if (shard.first !== next) return `${kind} shard ${shard.path} starts at row ${shard.first}, expected ${next}`;
    next += shard.count;
  }
  return next === count ? null : `${kind} shards hold ${next} rows, the manifest says ${count}`;
}

/** Parses a manifest, or throws an Error listing what is wrong with it. */
export function parseManifest(value: unknown): IndexManifest {
  const parsed = IndexManifest.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`);
  throw new Error(`not a valid index manifest: ${issues.join('; ')}`);
}
