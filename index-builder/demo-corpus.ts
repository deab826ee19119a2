/**
 * Where the demo index's passages come from: `../shared/data` when it is there (tests, CI), otherwise
 * the official HotpotQA development file (distractor setting, CC BY-SA 4.0), downloaded once with a
 * progress bar and kept only when its size and SHA-256 match. A half-downloaded or corrupt file is
 * never indexed: it is fetched again.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Progress } from './progress.ts';

export interface Download {
  url: string;
  sha256: string;
  /** Expected size, for the progress bar when the server sends no Content-Length. */
  bytes?: number;
}

/** The official file; its size and checksum as recorded by several independent projects. */
export const HOTPOT_DEV_DISTRACTOR: Download = {
  url: 'http://curtis.ml.cmu.edu/datasets/hotpot/hotpot_dev_distractor_v1.json',
  sha256: '4e9ecb5c8d3b719f624d66b60f8d56bf227f03914f5f0753d6fa1b359d7104ea',
  bytes: 46_320_117,
};

/** Tests (and mirrors) point the download elsewhere; URL and checksum are overridden together. */
export function demoDownload(env: NodeJS.ProcessEnv = process.env): Download {
  const url = env['SDG_DEMO_CORPUS_URL'];
  const sha256 = env['SDG_DEMO_CORPUS_SHA256'];
  if (!url && !sha256) return HOTPOT_DEV_DISTRACTOR;
  if (!url || !sha256 || !/^[0-9a-f]{64}$/.test(sha256)) throw new Error('set both SDG_DEMO_CORPUS_URL and SDG_DEMO_CORPUS_SHA256 (64 hex digits), or neither');
  return { url, sha256 };
}

export const OFFLINE_MESSAGE = 'no network and no local corpus: run `npm run build-index -- --input <file>`';

export function fileSha256(path: string): Promise<string> {
  return new Promise((done, fail) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => done(hash.digest('hex')))
      .on('error', fail);
  });
}

/** The verified local copy of `download` in `dir`, fetched (again) when missing or corrupt. */
export async function ensureDownload(download: Download, dir: string, progress?: Progress): Promise<string> {
  const target = join(dir, fileName(download.url));
  if (existsSync(target) && (await fileSha256(target)) === download.sha256) return target;
  rmSync(target, { force: true });
  mkdirSync(dir, { recursive: true });
  const partial = `${target}.partial`;
  try {
    await fetchTo(download, partial, progress);
    const sha = await fileSha256(partial);
    if (sha !== download.sha256) throw new Error(`the downloaded ${fileName(download.url)} is corrupt (SHA-256 ${sha.slice(0, 12)}…, expected ${download.sha256.slice(0, 12)}…); run the command again to retry`);
    renameSync(partial, target);
    return target;
  } finally {
    rmSync(partial, { force: true });
  }
}

function fileName(url: string): string {
  return new URL(url).pathname.split('/').filter(Boolean).pop() ?? 'download';
}

async function fetchTo(download: Download, path: string, progress?: Progress): Promise<void> {
  let response: Response;
  try {
    response = await fetch(download.url);
  } catch (error) {
    throw new Error(`${OFFLINE_MESSAGE} (could not reach ${download.url}: ${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)})`);
  }
  if (!response.ok || !response.body) throw new Error(`could not download ${download.url}: HTTP ${response.status}`);
  const total = Number(response.headers.get('content-length')) || download.bytes || 0;
  const file = await open(path, 'w');
  let received = 0;
  progress?.start(`downloading ${fileName(download.url)} (bytes)`, total);
  const reader = response.body.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      await file.write(next.value);
      received += next.value.byteLength;
      progress?.update(received);
    }
  } finally {
    await file.close();
    progress?.stop();
  }
  if (download.bytes && statSync(path).size !== download.bytes) throw new Error(`the download of ${download.url} stopped early (${statSync(path).size} of ${download.bytes} bytes); run the command again to retry`);
}
