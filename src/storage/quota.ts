/**
 * The browser's storage quota: recognising a full store, and saying so in words a user can act on
 * (what was being saved, how much it needs, how much is left, and where to make room).
 */

/** Quota errors across engines: the standard name, Firefox's legacy one, and the legacy code 22. */
export function isQuotaError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'QuotaExceededError' || name === 'NS_ERROR_DOM_QUOTA_REACHED' || code === 22;
}

export interface StorageEstimateLike {
  usage?: number;
  quota?: number;
}

export type EstimateStorage = () => Promise<StorageEstimateLike>;

/** navigator.storage.estimate where it exists (pages and workers in secure contexts). */
export const browserEstimate: EstimateStorage = async () => {
  const storage = (globalThis as { navigator?: { storage?: { estimate?: () => Promise<StorageEstimateLike> } } }).navigator?.storage;
  return storage?.estimate ? storage.estimate() : {};
};

/** Bytes left under the quota, or undefined when the browser does not tell. */
export async function freeBytes(estimate: EstimateStorage = browserEstimate): Promise<number | undefined> {
  try {
    const { usage, quota } = await estimate();
    return usage === undefined || quota === undefined ? undefined : Math.max(0, quota - usage);
  } catch {
    return undefined;
  }
}

export const mb = (bytes: number): string => (bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0);

/** Thrown when something could not be kept because the origin's storage is full. */
export class StorageFullError extends Error {
  override readonly name = 'StorageFullError';

  constructor(what: string, neededBytes: number, free: number | undefined, options?: ErrorOptions) {
    const left = free === undefined ? 'the browser does not say how much is free' : `${mb(free)} MB free`;
    super(`not enough storage to keep ${what}: ${mb(neededBytes)} MB needed, ${left}; delete an index or a model under Storage, then try again`, options);
  }
}

/** A StorageFullError with the free space measured now (after any partial write was dropped). */
export async function storageFull(what: string, neededBytes: number, cause: unknown, estimate?: EstimateStorage): Promise<StorageFullError> {
  return new StorageFullError(what, neededBytes, await freeBytes(estimate), { cause });
}

export interface QuotaContext {
  /** What was being kept, as the message names it ("the model x.gguf"). */
  what: string;
  /** Bytes the whole item needs, read when the error arrives (a download learns its size as it goes). */
  neededBytes: () => number;
  /** Drops a partial write, so the message counts the space it held as free again. */
  dropPartial?: () => Promise<void>;
  estimate?: EstimateStorage;
}

/** Runs `work`; a quota error from it becomes a StorageFullError, other errors pass through unchanged. */
export async function explainQuota<T>(work: () => Promise<T>, context: QuotaContext): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isQuotaError(error)) throw error;
    await context.dropPartial?.().catch(() => undefined);
    throw await storageFull(context.what, context.neededBytes(), error, context.estimate);
  }
}
