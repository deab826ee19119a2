/** How far a long load has come, as the page shows it: for a model, an index, or an embedder. */
export interface LoadProgress {
  text: string;
  /** 0..1, or undefined while the total is unknown. */
  fraction?: number;
  loadedBytes?: number;
  totalBytes?: number;
  /** Set when the loader knows the bytes come from the browser's cache, not the network. */
  fromCache?: boolean;
}

/** Progress in bytes, its fraction known once the total is (a total of 0 means unknown). */
export function bytesProgress(text: string, loadedBytes: number, totalBytes: number): LoadProgress {
  return { text, loadedBytes, totalBytes, ...(totalBytes > 0 && { fraction: Math.min(1, loadedBytes / totalBytes) }) };
}
