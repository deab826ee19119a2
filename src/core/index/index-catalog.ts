/**
 * The list of indexes built into the app's `public/` folder (`indexes.json`, written by the index
 * builder), so the app can offer every one of them. Fetched, so parsed as untrusted input.
 */
import { z } from 'zod';

export const CATALOG_FILE = 'indexes.json';

export const CatalogEntry = z.object({
  /** The manifest, relative to the app's root, e.g. `index/manifest.json`. */
  path: z.string().regex(/^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]{1,300}$/, 'expected a relative path inside the app'),
  name: z.string().min(1).max(200),
  passages: z.number().int().nonnegative(),
  embedder: z.string().max(200).nullable(),
});
export type CatalogEntry = z.infer<typeof CatalogEntry>;

export const IndexCatalog = z.object({ indexes: z.array(CatalogEntry).max(100) });
export type IndexCatalog = z.infer<typeof IndexCatalog>;

/** The catalog's entries, or none when it is missing or malformed (the demo index still loads). */
export function parseCatalog(value: unknown): CatalogEntry[] {
  const parsed = IndexCatalog.safeParse(value);
  return parsed.success ? parsed.data.indexes : [];
}
