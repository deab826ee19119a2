/** SHA-256 of shard bytes, hex-encoded, in the browser, a worker and Node alike. */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // WebCrypto is native and fast but exists only in secure contexts (https, localhost); a page served
  // over plain http on a LAN address falls back to the pure-JS hash.
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return bytesToHex(sha256(bytes));
  return bytesToHex(new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)));
}
