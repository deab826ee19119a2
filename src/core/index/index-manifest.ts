/**
 * The index manifest: what the builder wrote and the app loads. It is fetched over the network and
 * cached, so it is parsed as untrusted input: file names cannot leave the index folder, sizes are
 * bounded, and vector shards must cover the corpus's rows exactly once, in order.
 */
import { z } from 'zod';

export const INDEX_FORMAT = 'sdg-index';
/** Version 2: the lazy lexical index (term dictionary pages and block-encoded postings fetched by range)
 * and gzip passage blocks. Version 1 (one MiniSearch JSON loaded whole) is refused with how to rebuild. */
export const INDEX_VERSION = 2;

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

const EmbedderFields = {
  /** The embedder's stable id; the browser must embed queries with the same one. */
  id: z.string().min(1).max(200),
  model: z.string().min(1).max(200),
  dimension: z.number().int().min(1).max(4096),
};

/** Text a model was trained to see before a query or passage: e5's `query: `, Qwen3-Embedding's `Instruct: …\nQuery: `. */
const Prefix = z.string().max(1_000);

export const EmbedderSpec = z.discriminatedUnion('kind', [
  /** `use-lite` (ships with the app, runs offline) or `transformers` (an ONNX model from a hub). */
  z.object({ kind: z.enum(['use-lite', 'transformers']), ...EmbedderFields }),
  /**
   * `openai`: a server speaking OpenAI's `/v1/embeddings`, which embeds the queries too (the page must
   * be allowed to connect to it). Credentials never appear here: a key stays in the builder's environment.
   */
  z.object({
    kind: z.literal('openai'),
    ...EmbedderFields,
    baseUrl: z.string().max(500).regex(/^https?:\/\/[^\s/?#@]+(\/[^\s?#@]*)?$/, 'expected an http(s) URL without credentials, query or fragment'),
    queryPrefix: Prefix.optional(),
    passagePrefix: Prefix.optional(),
  }),
]);
export type EmbedderSpec = z.infer<typeof EmbedderSpec>;

/** The lexical index: `dictionary` (a line per term page) is fetched on open; pages and posting lists
 * are ranges of `files`, fetched when a query needs them. */
export const LexicalSpec = z.object({
  format: z.literal('sdg-bm25'),
  /** The tokenizer the builder used; a query must be cut by the same one. */
  tokenizer: z.string().min(1).max(100),
  k1: z.number().positive().max(10),
  b: z.number().min(0).max(1),
  /** Integer impacts per unit of BM25 score. */
  impactScale: z.number().positive().finite(),
  terms: Count,
  dictionary: ShardFile,
  files: z.array(ShardFile).min(1).max(10_000),
});
export type LexicalSpec = z.infer<typeof LexicalSpec>;

/** Passage texts in gzip blocks of `rowsPerBlock` rows, ranges of `files` that `table` lists. */
export const PassagesSpec = z.object({
  count: Count.min(1),
  encoding: z.literal('json-gzip-blocks'),
  rowsPerBlock: z.number().int().min(1).max(100_000),
  table: ShardFile,
  files: z.array(ShardFile).min(1).max(100_000),
});
export type PassagesSpec = z.infer<typeof PassagesSpec>;

/** Dense vectors as int8 rows, loaded whole on open and scanned flat (small indexes). */
export const FlatVectors = z.object({ embedder: EmbedderSpec, encoding: z.literal('int8'), shards: z.array(RowShard).min(1) });

/** The most PQ codes a passage may have: one byte each, so at most 64 bytes a passage. */
export const MAX_SUBQUANTIZERS = 64;

/**
 * Dense vectors as an IVF-PQ index (ivf-pq-format.ts): `quantizer` (coarse centroids, PQ codebooks and
 * the list directory) is fetched on open; a query fetches its `nprobe` nearest lists (row ids and PQ
 * codes) from `files` and the int8 rows of its best `rerank` candidates from `rowFiles`, by range.
 */
export const IvfPqVectors = z.object({
  embedder: EmbedderSpec,
  encoding: z.literal('ivf-pq'),
  /** Rows the lists hold between them: every passage once. */
  count: Count.min(1),
  lists: z.number().int().min(1).max(65_536),
  subquantizers: z.number().int().min(1).max(MAX_SUBQUANTIZERS),
  /** Lists a query scans, and candidates re-ranked exactly: the builder's measured defaults. */
  nprobe: z.number().int().min(1).max(65_536),
  rerank: z.number().int().min(1).max(10_000),
  quantizer: ShardFile,
  files: z.array(ShardFile).min(1).max(100_000),
  rowFiles: z.array(ShardFile).min(1).max(100_000),
});
export type IvfPqVectors = z.infer<typeof IvfPqVectors>;

export const VectorsSpec = z.discriminatedUnion('encoding', [FlatVectors, IvfPqVectors]);
export type VectorsSpec = z.infer<typeof VectorsSpec>;

export const IndexManifest = z
  .object({
    format: z.literal(INDEX_FORMAT),
    version: z.literal(INDEX_VERSION),
    name: z.string().min(1).max(200),
    source: z.object({
      kind: z.enum(['jsonl', 'hotpotqa-json', 'hotpotqa-abstracts', 'wikipedia-dump']),
      file: z.string().max(1_000),
      sha256: Sha256,
    }),
    /** Identifies the builder's output format and settings: a different key means the index is stale. */
    builder: z.string().min(1).max(200),
    passages: PassagesSpec,
    lexical: LexicalSpec,
    vectors: VectorsSpec.nullable(),
  })
  .superRefine((manifest, ctx) => {
    const vectors = manifest.vectors;
    if (!vectors) return;
    if (vectors.encoding === 'ivf-pq') {
      for (const problem of ivfPqProblems(vectors, manifest.passages.count)) ctx.addIssue({ code: 'custom', message: problem });
      return;
    }
    const problem = coverage('vectors', vectors.shards, manifest.passages.count);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
    for (const shard of vectors.shards) {
      if (shard.bytes !== vectorShardBytes(shard.count, vectors.embedder.dimension)) {
        ctx.addIssue({ code: 'custom', message: `vector shard ${shard.path} has ${shard.bytes} bytes, expected ${vectorShardBytes(shard.count, vectors.embedder.dimension)}` });
      }
    }
  });
export type IndexManifest = z.infer<typeof IndexManifest>;

function ivfPqProblems(vectors: IvfPqVectors, passages: number): string[] {
  const { count, lists, subquantizers, nprobe, embedder } = vectors;
  return [
    count !== passages && `the IVF-PQ lists hold ${count} rows, the manifest ${passages} passages`,
    embedder.dimension % subquantizers !== 0 && `${subquantizers} sub-quantisers do not divide ${embedder.dimension} dimensions`,
    nprobe > lists && `nprobe ${nprobe} is more than the ${lists} lists`,
  ].filter((problem) => problem !== false);
}

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

/** Every file of the index: what a full offline copy holds. */
export function indexFiles(manifest: IndexManifest): ShardFile[] {
  const { passages, lexical, vectors } = manifest;
  return [passages.table, ...passages.files, lexical.dictionary, ...lexical.files, ...vectorFiles(vectors)];
}

/** The files of the dense index, in the order they are listed. */
export function vectorFiles(vectors: VectorsSpec | null): ShardFile[] {
  if (!vectors) return [];
  return vectors.encoding === 'int8' ? vectors.shards : [vectors.quantizer, ...vectors.files, ...vectors.rowFiles];
}

/** What a dense index fetches on open: every int8 shard, or an IVF-PQ index's quantizer alone. */
export function eagerVectorFiles(vectors: VectorsSpec | null): ShardFile[] {
  if (!vectors) return [];
  return vectors.encoding === 'int8' ? vectors.shards : [vectors.quantizer];
}

export const sumBytes = (files: readonly ShardFile[]) => files.reduce((sum, f) => sum + f.bytes, 0);

/** Parses a manifest, or throws an Error listing what is wrong with it (for an index of an older
 * format: how to rebuild it). */
export function parseManifest(value: unknown): IndexManifest {
  const older = olderFormat(value);
  if (older) throw new Error(older);
  const parsed = IndexManifest.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`);
  throw new Error(`not a valid index manifest: ${issues.join('; ')}`);
}

function olderFormat(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return null;
  const { format, version, source } = value as { format?: unknown; version?: unknown; source?: { file?: unknown } };
  if (format !== INDEX_FORMAT || typeof version !== 'number' || version >= INDEX_VERSION) return null;
  const file = typeof source?.file === 'string' && /^[\w.,() -]{1,200}$/.test(source.file) ? source.file : '<its source file>';
  return `this index was built in format ${version}, which this app no longer reads (it loaded the whole lexical index before the first query): rebuild it with npm run build-index -- --input ${file} --out <its folder>`;
}
