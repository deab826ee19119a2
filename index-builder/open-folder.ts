/** Opens a built index from a folder on disk the way the browser opens it from a server: the same
 * manifest check, checksum-verified files and ranges, and ShardedIndex. For the search and eval CLIs,
 * benchmarks and tests. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../src/core/error-message.ts';
import { parseManifest, type IndexManifest } from '../src/core/index-manifest.ts';
import { rangeSource, type RangeSourceOptions } from '../src/retrieval/range-source.ts';
import { ShardedIndex, type OpenOptions } from '../src/retrieval/sharded-index.ts';
import { shardSource } from '../src/retrieval/shard-source.ts';
import { MANIFEST_FILE } from './build.ts';
import { fileFetch } from './file-fetch.ts';

export type FolderOptions = Partial<Omit<OpenOptions, 'fetchShard' | 'fetchRange'>> & Pick<RangeSourceOptions, 'onFetched'>;

export function readManifest(dir: string): IndexManifest {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
  } catch (error) {
    throw new Error(`no readable index in ${dir}: ${errorMessage(error)}`);
  }
  return parseManifest(json);
}

export async function openIndexFolder(dir: string, options: FolderOptions = {}): Promise<ShardedIndex> {
  const base = pathToFileURL(`${dir.endsWith('/') ? dir : `${dir}/`}`);
  const { onFetched, ...rest } = options;
  return ShardedIndex.open(readManifest(dir), {
    embedder: null,
    ...rest,
    fetchShard: shardSource({ base, fetch: fileFetch }),
    fetchRange: rangeSource({ base, fetch: fileFetch, ...(onFetched && { onFetched }) }),
  });
}
