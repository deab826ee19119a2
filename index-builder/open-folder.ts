/** Node's way to open a built index from a folder on disk, the way the browser opens it from a server:
 * the retrieval service's dependencies over `file:` URLs (the same manifest check, checksum-verified
 * files and ranges, and ShardedIndex), for the eval CLI; and the bare index for the search CLI,
 * benchmarks and tests. */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Embedder } from '../src/core/agent/embedder.ts';
import { openIndex, type IndexDependencies, type LoadEmbedder, type OpenHooks } from '../src/retrieval/open-index.ts';
import type { IndexRequest } from '../src/retrieval/retrieval-protocol.ts';
import type { ShardedIndex } from '../src/retrieval/sharded-index.ts';
import { MANIFEST_FILE } from './build.ts';
import { fileFetch } from './file-fetch.ts';
import { readManifestJson } from './manifest-file.ts';

export interface FolderOptions extends Pick<OpenHooks, 'onFetched'> {
  /** Must be the embedder the vectors were built with; without it only lexical search is offered. */
  embedder?: Embedder | null;
  passageBudgetBytes?: number;
}

/** The files are the copy: nothing to cache. No `loadEmbedder`, no query embedder: lexical only. */
export function folderDependencies(loadEmbedder?: LoadEmbedder<IndexRequest>): IndexDependencies<IndexRequest> {
  return { fetchManifest: async (url) => ({ json: await readManifestJson(fileURLToPath(url)) }), openCache: async () => undefined, fetch: fileFetch, ...(loadEmbedder && { loadEmbedder }) };
}

export function folderRequest(dir: string): IndexRequest {
  return { manifestUrl: pathToFileURL(join(dir, MANIFEST_FILE)).href };
}

export async function openIndexFolder(dir: string, options: FolderOptions = {}): Promise<ShardedIndex> {
  const { embedder, passageBudgetBytes, onFetched } = options;
  const request = { ...folderRequest(dir), ...(passageBudgetBytes !== undefined && { passageBudgetBytes }) };
  const dependencies = folderDependencies(embedder ? async () => embedder : undefined);
  return (await openIndex(request, dependencies, { onProgress: () => undefined, ...(onFetched && { onFetched }) })).index;
}
