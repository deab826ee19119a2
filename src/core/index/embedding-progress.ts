/**
 * How far the builder's background embedding has got, in a small file beside the manifest: `npm run dev`
 * serves the lexical index at once and embeds the vectors after, and the page shows the progress until
 * the complete manifest lands. The file is read while it is being rewritten, so it is parsed defensively.
 */

/** Beside `manifest.json`; removed once the builder stops (the complete manifest written, or interrupted). */
export const EMBEDDING_PROGRESS_FILE = 'embedding.json';

export interface EmbeddingProgress {
  /** Passages embedded so far (resumed ones included). */
  embedded: number;
  total: number;
}

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/** The progress a file holds, or null for anything else (a half-written file, another shape). */
export function parseEmbeddingProgress(json: unknown): EmbeddingProgress | null {
  if (typeof json !== 'object' || json === null) return null;
  const { embedded, total } = json as Record<string, unknown>;
  if (!isCount(embedded) || !isCount(total) || total === 0) return null;
  return { embedded: Math.min(embedded, total), total };
}

/** Whole percent, rounded down: 100% only when every passage is embedded. */
export const embeddingPercent = ({ embedded, total }: EmbeddingProgress): number => Math.floor((100 * embedded) / total);

/** What the index status says while the vectors are being made. */
export const embeddingLabel = (progress: EmbeddingProgress): string => `dense search: embedding, ${embeddingPercent(progress)}%`;

/** The progress file beside a manifest URL (relative or absolute). */
export const embeddingProgressUrl = (manifestUrl: string): string => manifestUrl.replace(/[^/?#]*([?#].*)?$/, EMBEDDING_PROGRESS_FILE);
