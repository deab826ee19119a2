/** Keeps `public/indexes.json` in step with the indexes built under `public/`, for the app to offer. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CATALOG_FILE, parseCatalog, type CatalogEntry } from '../src/core/index/index-catalog.ts';
import type { IndexManifest } from '../src/core/index/index-manifest.ts';
import { MANIFEST_FILE } from './build.ts';

/** Adds or replaces the entry of the index in `outDir`; a folder outside `publicDir` is not served, so not listed. */
export function registerIndex(publicDir: string, outDir: string, manifest: IndexManifest): CatalogEntry[] | null {
  const folder = relative(publicDir, outDir);
  if (!folder || folder.startsWith('..') || folder.startsWith(sep)) return null;
  const path = [...folder.split(sep), MANIFEST_FILE].join('/');
  const catalogPath = join(publicDir, CATALOG_FILE);
  const previous = existsSync(catalogPath) ? parseCatalog(safeJson(readFileSync(catalogPath, 'utf8'))) : [];
  const entry: CatalogEntry = { path, name: manifest.name, passages: manifest.passages.count, embedder: manifest.vectors?.embedder.id ?? null };
  // Entries whose index was deleted since are dropped; the demo stays first.
  const entries = [...previous.filter((e) => e.path !== path && existsSync(join(publicDir, e.path))), entry].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
  writeFileSync(`${catalogPath}.partial`, JSON.stringify({ indexes: entries }, null, 1));
  renameSync(`${catalogPath}.partial`, catalogPath);
  return entries;
}

const rank = (entry: CatalogEntry) => (entry.path === `index/${MANIFEST_FILE}` ? 0 : 1);

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
