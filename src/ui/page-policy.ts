/**
 * The page's narrowed connect policy at run time. At start-up (before the app mounts) a second
 * Content-Security-Policy meta is added that allows only our origin, local servers, the default model
 * hosts and the hosts the user configured (src/core/util/connect-policy.ts). A page cannot widen its policy
 * later, so a load from a host it does not allow is stopped before it starts: the user may allow the host,
 * which is remembered here, and the page reloads with it in the policy and loads the model again.
 */
import { z } from 'zod';
import { allowedBy, connectPolicy, connectSources, policyOrigin } from '../core/util/connect-policy.ts';
import type { EngineSettings } from '../engines/load.ts';
import { configuredUrls, readEngineForm } from './engine-form-store.ts';
import { readRetrievalServer } from './retrieval-server-store.ts';

const ALLOW_KEY = 'sdg.allowed-hosts.v1';
/** Per tab: the load to run again after "Allow … and reload". */
const PENDING_KEY = 'sdg.pending-load.v1';
/** Per tab: the index to open again after its embedding server was allowed. */
const REOPEN_INDEX_KEY = 'sdg.reopen-index.v1';
/** The newest ones are kept: a list that grows without bound would only widen the policy. */
const MAX_ALLOWED = 20;

/** The sources of the policy this page was started with; null before `installConnectPolicy`. */
let installed: string[] | null = null;

/** Adds the narrowed policy to the document (once). Returns its connect-src sources. */
export function installConnectPolicy(): string[] {
  if (installed) return installed;
  const sources = connectSources([...configuredUrls(readEngineForm()), readRetrievalServer().url, ...readAllowList()], location.href);
  const meta = document.createElement('meta');
  meta.httpEquiv = 'Content-Security-Policy';
  meta.content = connectPolicy(sources);
  document.head.append(meta);
  installed = sources;
  return sources;
}

/** The URLs loading these settings fetches from (engine code and its own files aside). */
export function engineUrls(settings: EngineSettings): string[] {
  switch (settings.kind) {
    case 'wllama':
      return [settings.modelUrl];
    case 'openai':
      return [settings.baseUrl];
    case 'webllm': {
      const custom = z.object({ modelUrl: z.string(), modelLibUrl: z.string() }).safeParse(settings.custom);
      if (custom.success) return [custom.data.modelUrl, custom.data.modelLibUrl];
      return settings.weightsBaseUrl ? [settings.weightsBaseUrl] : [];
    }
  }
}

/**
 * The origin of the first URL the page's policy refuses, or null when all are allowed. A URL with no
 * origin a policy could name is left to the load, which reports it.
 */
export function blockedOrigin(urls: readonly string[]): string | null {
  if (!installed) return null;
  for (const url of urls) {
    const origin = policyOrigin(url, location.href);
    if (origin && !allowedBy(installed, url.trim(), location.href)) return origin;
  }
  return null;
}

/** Remembers the origin, marks the load to run again, and reloads so the new policy includes it. */
export function allowAndReload(origin: string): void {
  allowThenReload(origin, PENDING_KEY, origin);
}

/** Remembers the origin of an index's embedding server and reloads, to open that index again. */
export function allowIndexServerAndReload(origin: string, manifestUrl: string): void {
  allowThenReload(origin, REOPEN_INDEX_KEY, manifestUrl);
}

function allowThenReload(origin: string, pendingKey: string, pending: string): void {
  const checked = policyOrigin(origin);
  if (!checked) return;
  const list = [...readAllowList().filter((o) => o !== checked), checked].slice(-MAX_ALLOWED);
  try {
    localStorage.setItem(ALLOW_KEY, JSON.stringify(list));
    sessionStorage.setItem(pendingKey, pending);
  } catch {
    // Without storage the origin cannot outlive the reload; the form's stored settings may still carry it.
  }
  location.reload();
}

/** Once after "Allow … and reload" for an index's embedding server: the index to open instead of the demo. */
export function takeReopenIndex(): string | null {
  try {
    const url = sessionStorage.getItem(REOPEN_INDEX_KEY);
    sessionStorage.removeItem(REOPEN_INDEX_KEY);
    return url;
  } catch {
    return null;
  }
}

/** True once after "Allow … and reload" when the page now allows that origin: the form loads again. */
export function takePendingLoad(): boolean {
  let pending: string | null = null;
  try {
    pending = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
  } catch {
    return false;
  }
  return pending !== null && installed !== null && blockedOrigin([pending]) === null;
}

/** The stored allow-list; every entry is checked again, so a hand-edited one never reaches the policy raw. */
function readAllowList(): string[] {
  try {
    const parsed = z.array(z.string()).safeParse(JSON.parse(localStorage.getItem(ALLOW_KEY) ?? '[]'));
    return parsed.success ? parsed.data.flatMap((o) => policyOrigin(o) ?? []) : [];
  } catch {
    return [];
  }
}
