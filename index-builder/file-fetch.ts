/** A `fetch` for `file:` URLs, so Node code (benchmarks, the eval CLI, tests) opens a built index the
 * way the browser does, through the same checksum-verifying shard source. */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const fileFetch: typeof fetch = async (input) => {
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.protocol !== 'file:') throw new Error(`fileFetch only reads file: URLs, got ${url.protocol}`);
  try {
    return new Response(await readFile(fileURLToPath(url)));
  } catch {
    return new Response(null, { status: 404 });
  }
};
