/**
 * Whether the demo index in public/index is current. `npm run dev` first writes a lexical-only demo
 * index (what the first question needs) and embeds its vectors in the background; such a manifest is
 * partial: its lexical part is current, only the vectors are still to come.
 */
import type { IndexManifest } from '../src/core/index/index-manifest.ts';

/** complete: nothing to do; partial: embed (the lexical files stay as they are); stale: build it all. */
export type DemoIndexState = 'complete' | 'partial' | 'stale';

export interface DemoKeys {
  /** The builder key of the full demo (with its embedder). */
  complete: string;
  /** The builder key of the same settings without an embedder. */
  lexical: string;
}

export function demoIndexState(manifest: Pick<IndexManifest, 'source' | 'builder' | 'vectors'> | null, sourceSha256: string, keys: DemoKeys): DemoIndexState {
  if (!manifest || manifest.source.sha256 !== sourceSha256) return 'stale';
  if (manifest.builder === keys.complete && manifest.vectors) return 'complete';
  if (manifest.builder === keys.lexical && !manifest.vectors) return 'partial';
  return 'stale';
}
