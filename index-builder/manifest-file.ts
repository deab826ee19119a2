/** A built index's manifest read from its folder on disk, checked as the app checks it. Light on purpose:
 * the builder reads it to know whether an index is current, without loading the retrieval runtime. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorMessage } from '../src/core/util/error-message.ts';
import { parseManifest, type IndexManifest } from '../src/core/index/index-manifest.ts';
import { MANIFEST_FILE } from './build.ts';

export function readManifest(dir: string): IndexManifest {
  return parseManifest(readManifestJson(join(dir, MANIFEST_FILE)));
}

export function readManifestJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`no readable index in ${dirname(path)}: ${errorMessage(error)}`);
  }
}
