/**
 * wllama's own store of GGUF files (its CacheManager, in OPFS), read as this app needs it.
 *
 * wllama 3.8.1 records a file's expected size from the response's Content-Length, and treats a file whose
 * size differs as an interrupted download (it downloads it again, and offline it cannot). A host that
 * compresses the file (vite preview, most static hosts) sends no Content-Length, so a finished download
 * was recorded as 0 bytes. But wllama writes a file's metadata only after the whole body was written (an
 * interrupted download leaves none), so a file with metadata is complete: its size is what was received.
 */
import type { CacheEntry, CacheEntryMetadata } from '@wllama/wllama/esm/index.js';

/** The part of wllama's CacheManager used here (a test passes its own). */
export interface ModelStore {
  list(): Promise<CacheEntry[]>;
  writeMetadata(name: string, metadata: CacheEntryMetadata): Promise<void>;
}

/** A file wllama finished downloading: only then has it metadata naming its URL. */
export function finishedDownload(entry: CacheEntry): boolean {
  return entry.metadata.originalURL !== '';
}

/** Records the bytes actually received as the size of each finished file of `urls` recorded otherwise. */
export async function recordReceivedSizes(store: ModelStore, urls: readonly string[]): Promise<void> {
  for (const entry of await store.list()) {
    if (!finishedDownload(entry) || !urls.includes(entry.metadata.originalURL) || entry.metadata.originalSize === entry.size) continue;
    await store.writeMetadata(entry.name, { ...entry.metadata, originalSize: entry.size });
  }
}

/** Whether every file of a model (a split model's shards) is stored whole, so it loads without the network. */
export async function isStored(store: ModelStore, urls: readonly string[]): Promise<boolean> {
  await recordReceivedSizes(store, urls);
  const entries = await store.list();
  return urls.every((url) => entries.some((entry) => finishedDownload(entry) && entry.metadata.originalURL === url && entry.size > 0));
}
