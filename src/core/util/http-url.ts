/**
 * The one check of an http(s) URL a user gives: a model file, a server, a mirror, a host to allow. All
 * agree on what a valid host is, so a URL the engine form accepts is one the connect policy
 * (src/core/util/connect-policy.ts) can reason about, and every field words its faults the same way.
 */

/**
 * An ASCII host name (IDNs arrive as punycode) with an optional trailing dot (`localhost.`, the fully
 * qualified form), an IPv4 address, or a bracketed IPv6 address (`[::1]`). Labels hold letters, digits
 * and `-` only: URL parsers let `;`, quotes and `,` through (Chromium's also `%`), which would end a
 * source in a connect policy.
 */
const HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?$|^\[[0-9a-f:.]+\]$/i;

export type HttpUrlCheck =
  | { ok: true; url: URL }
  | { ok: false; fault: 'empty' | 'syntax' | 'host' | 'space' }
  | { ok: false; fault: 'scheme'; protocol: string };

/** Parses the trimmed text as an http(s) URL (a relative one against `base`, when given). */
export function checkHttpUrl(raw: string, base?: string): HttpUrlCheck {
  const text = raw.trim();
  if (!text) return { ok: false, fault: 'empty' };
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    return { ok: false, fault: 'syntax' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, fault: 'scheme', protocol: url.protocol };
  // Chromium's parser accepts "exa mple.org" (as "exa%20mple.org"), which the host check refuses.
  if (!HOST.test(url.hostname)) return { ok: false, fault: 'host' };
  // The parser drops tabs and newlines and encodes spaces: what would be fetched is not what was typed.
  if (/\s/.test(text)) return { ok: false, fault: 'space' };
  return { ok: true, url };
}

/** The field a URL was typed into, as its faults name it: `{ what: 'server URL', example: 'http://…/v1' }`. */
export interface UrlField {
  what: string;
  example: string;
}

/** The URL, or what is wrong with it in a sentence a user can act on. */
export function readHttpUrl(raw: string, field: UrlField, base?: string): { url: URL } | { problem: string } {
  const checked = checkHttpUrl(raw, base);
  return checked.ok ? { url: checked.url } : { problem: describe(checked, raw, field) };
}

function describe(check: Exclude<HttpUrlCheck, { ok: true }>, raw: string, { what, example }: UrlField): string {
  switch (check.fault) {
    case 'empty':
      return `No ${what}: give one like ${example}.`;
    case 'syntax':
      return `The ${what} "${raw}" is not a URL: give one like ${example}.`;
    case 'scheme':
      return `The ${what} must start with http:// or https://, not ${check.protocol} ("${raw}").`;
    case 'host':
      return `The ${what} "${raw}" has no valid host name.`;
    case 'space':
      return `The ${what} "${raw}" contains white space: write a space as %20.`;
  }
}
