/**
 * The page's `connect-src`: the hosts the page may fetch from. The static policy in index.html has to
 * allow any https host (model URLs are the user's to type); at start-up the page adds a second, narrower
 * policy (policies intersect) built here from our origin, local servers, the hosts the shipped defaults
 * download from, and the origins of the hosts the user configured. Every user-given URL is reduced to a
 * checked origin first, so nothing else of it (credentials, path, quotes, `;`) can reach the policy text.
 */
import { checkHttpUrl } from './http-url.ts';

/** Local servers: an OpenAI-compatible engine (llama.cpp, Ollama) and Vite's dev socket. */
export const LOCAL_SOURCES = ['http://127.0.0.1:*', 'http://localhost:*', 'ws://127.0.0.1:*', 'ws://localhost:*'] as const;

/**
 * Where the defaults download from: the Hugging Face hub (the default GGUF, WebLLM's prebuilt weights,
 * transformers.js embedders) and the hosts it redirects file downloads to (cdn-lfs*.hf.co,
 * cas-bridge.xethub.hf.co, regional *.cdn.hf.co; a policy is checked at every redirect hop, and these
 * hosts change, hence wildcards over the hub's own domains), and GitHub's raw host, which serves WebLLM's
 * prebuilt model libraries.
 */
export const DEFAULT_MODEL_SOURCES = ['https://huggingface.co', 'https://*.huggingface.co', 'https://hf.co', 'https://*.hf.co', 'https://raw.githubusercontent.com'] as const;

/** Our origin, in-browser URLs (wllama reads blob: URLs), local servers and the default model hosts. */
export const BASE_SOURCES: readonly string[] = ["'self'", 'blob:', 'data:', ...LOCAL_SOURCES, ...DEFAULT_MODEL_SOURCES];

/**
 * The origin of an http(s) URL as a CSP source (`https://host[:port]`), or null when the URL is not
 * http(s) or its host cannot be written as a source. A relative URL resolves against `base`.
 */
export function policyOrigin(raw: string, base?: string): string | null {
  const checked = checkHttpUrl(raw, base);
  if (!checked.ok) return null;
  const { protocol, hostname, port } = checked.url;
  // A host-source has no form for an IPv6 literal: Chromium ignores `http://[::1]:8080` as invalid. A
  // trailing dot it keeps, and matches to the letter (`localhost.` is not `localhost`), as allowedBy does.
  if (hostname.startsWith('[') || !/^\d*$/.test(port)) return null;
  return `${protocol}//${hostname}${port ? `:${port}` : ''}`;
}

/** The sources of the page's connect-src: the base ones, then each configured or allowed origin once. */
export function connectSources(urls: readonly string[], base?: string): string[] {
  const sources = [...BASE_SOURCES];
  for (const url of urls) {
    const origin = policyOrigin(url, base);
    if (origin && !sources.includes(origin)) sources.push(origin);
  }
  return sources;
}

/** The policy text for a `<meta http-equiv="Content-Security-Policy">`. */
export function connectPolicy(sources: readonly string[]): string {
  return `connect-src ${sources.join(' ')}`;
}

/** Whether `raw` (resolved against `pageUrl`) is matched by one of the sources (the forms built here). */
export function allowedBy(sources: readonly string[], raw: string, pageUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(raw, pageUrl);
  } catch {
    return false;
  }
  const self = new URL(pageUrl).origin;
  return sources.some((source) => sourceMatches(source, url, self));
}

/** The connect-src sources of a policy's text (a meta's `content`), or null when it has none (no bound). */
export function connectSourcesIn(policy: string): string[] | null {
  const directive = policy
    .split(';')
    .map((part) => part.trim().split(/\s+/))
    .find(([name]) => name?.toLowerCase() === 'connect-src');
  return directive ? directive.slice(1) : null;
}

/** Policies intersect: a URL is reachable only when every one of them allows it. */
export function allowedByAll(policies: readonly (readonly string[])[], raw: string, pageUrl: string): boolean {
  return policies.every((sources) => allowedBy(sources, raw, pageUrl));
}

/** `'self'`, a scheme (`blob:`) or `scheme://[*.]host[:port|:*]`, matched as CSP does. */
function sourceMatches(source: string, url: URL, selfOrigin: string): boolean {
  if (source === "'self'") return url.origin === selfOrigin;
  if (/^[a-z-]+:$/.test(source)) return url.protocol === source;
  const match = /^([a-z]+):\/\/(\*\.)?([^:/]+)(?::(\*|\d+))?$/.exec(source);
  if (!match) return false;
  const [, scheme, wildcard, host, port] = match;
  if (url.protocol !== `${scheme}:`) return false;
  const hostMatches = wildcard ? url.hostname.endsWith(`.${host}`) : url.hostname === host;
  // No port in the source: only the scheme's default port, which URL leaves empty.
  return hostMatches && (port === '*' || url.port === (port ?? ''));
}
