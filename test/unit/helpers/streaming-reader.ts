/** What every streaming corpus reader (Wikipedia dumps, HotpotQA's archive) promises about its file. */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { expect, vi } from 'vitest';

type Reader = (path: string, options?: { limit?: number; signal?: AbortSignal; onBytes?: (bytes: number) => void }) => AsyncGenerator<{ title: string }, unknown>;

/** How many of this process's descriptors have `path` open (Linux: /proc/self/fd). */
export function openHandles(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false; // the descriptor readdir itself used is gone by now
    }
  }).length;
}

/** The file is closed when the reader stops early: at its limit, at a break, or on an abort the
 * consumer never follows up. */
export async function expectClosedWhenStoppedEarly(read: Reader, path: string, firstTitle: string): Promise<void> {
  for await (const _ of read(path, { limit: 1 })) void _;
  for await (const article of read(path)) {
    expect(article.title).toBe(firstTitle);
    break;
  }
  await vi.waitFor(() => expect(openHandles(path)).toBe(0));
  // Aborted while the consumer holds the generator and never asks it for more.
  const controller = new AbortController();
  const abandoned = read(path, { signal: controller.signal });
  await abandoned.next();
  expect(openHandles(path)).toBe(1);
  controller.abort(new Error('stop'));
  await vi.waitFor(() => expect(openHandles(path)).toBe(0));
  await expect(abandoned.next()).rejects.toThrow('stop');
}

/** The file is read only as fast as a slow consumer pulls: after one article, reading stops early. */
export async function expectBackpressure(read: Reader, path: string, firstTitle: string): Promise<void> {
  let bytes = 0;
  for await (const article of read(path, { onBytes: (n) => (bytes = n) })) {
    expect(article.title).toBe(firstTitle);
    // Decoding bz2 is slow enough that a short wait would pass even with no backpressure: wait until
    // reading has stopped, which without backpressure is at the end of the file.
    for (let before = -1; before !== bytes; ) {
      before = bytes;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    break;
  }
  expect(bytes).toBeGreaterThan(0);
  expect(bytes).toBeLessThan(statSync(path).size / 4);
}

/** Progress is reported in bytes of the file as stored (compressed), up to its whole size. */
export async function expectProgressToFileSize(read: Reader, path: string): Promise<void> {
  let bytes = 0;
  for await (const _ of read(path, { onBytes: (n) => (bytes = n) })) void _;
  expect(bytes).toBe(statSync(path).size);
}
