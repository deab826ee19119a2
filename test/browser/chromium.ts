/**
 * Shared plumbing for browser tests: Debian's Chromium through playwright-core (never a downloaded
 * browser), a static file server on 127.0.0.1, and a request log to prove nothing leaves the machine.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { chromium, type BrowserContext, type Page, type Request } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** The flags known to work on these machines (../shared/DESIGN.md, "Known recipes"). */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface LaunchOptions {
  /** Adds `--enable-unsafe-webgpu` (SwiftShader's fallback adapter here; no `shader-f16`). */
  webgpu?: boolean;
  extraArgs?: string[];
  /** The system colour scheme the pages see (default: light). */
  colorScheme?: 'light' | 'dark';
  /** Lets a test inject a script tag (axe-core) past the app's Content-Security-Policy. */
  bypassCSP?: boolean;
  /** Pages see `prefers-reduced-motion: reduce`. */
  reducedMotion?: boolean;
}

export interface LaunchedChromium {
  context: BrowserContext;
  /** Closes the browser and deletes its temporary profile. */
  close(): Promise<void>;
}

/** Launches Chromium with a fresh temporary profile, so caches (OPFS, HTTP) never leak between tests. */
export async function launchChromium(options: LaunchOptions = {}): Promise<LaunchedChromium> {
  const profileDir = mkdtempSync(join(tmpdir(), 'sdg-chromium-'));
  const args = [...CHROMIUM_ARGS, ...(options.webgpu ? ['--enable-unsafe-webgpu'] : []), ...(options.extraArgs ?? [])];
  // headless: false plus --headless=new: playwright's own headless flag would pick the old headless shell.
  const context = await chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM_PATH, headless: false, args, colorScheme: options.colorScheme ?? 'light', bypassCSP: options.bypassCSP ?? false,
    reducedMotion: options.reducedMotion ? 'reduce' : 'no-preference',
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profileDir, { recursive: true, force: true });
    },
  };
}

const LOCAL_SCHEMES = new Set(['blob:', 'data:', 'about:']);

/** Records every request of a browser context, pages and their workers alike. */
export class RequestLog {
  readonly urls: string[] = [];
  private readonly listener = (request: Request) => void this.urls.push(request.url());

  constructor(private readonly context: BrowserContext) {
    context.on('request', this.listener);
  }

  /** Requests that went anywhere but 127.0.0.1 (blob:, data: and about: URLs stay in the browser). */
  offMachine(): string[] {
    return this.urls.filter((raw) => {
      if (!URL.canParse(raw)) return true; // cannot prove it local: report it
      const url = new URL(raw);
      return !LOCAL_SCHEMES.has(url.protocol) && url.hostname !== '127.0.0.1';
    });
  }

  stop(): void {
    this.context.off('request', this.listener);
  }
}

export const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.gguf': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticServerOptions {
  /** URL prefix -> directory, e.g. `{ '/': distDir, '/models/': cacheDir }`; the longest prefix wins. */
  mounts: Record<string, string>;
  /** Send COOP/COEP so pages are cross-origin isolated (SharedArrayBuffer, wasm threads). */
  crossOriginIsolated?: boolean;
  /** The Cache-Control of every response; default no-store, so a test never reads a stale file. */
  cacheControl?: string;
  /** Fault injection: for a request path, the bytes to send before the connection drops (undefined: all). */
  cutAfter?: (path: string) => number | undefined;
}

export interface StaticServer {
  /** Origin with a trailing slash, e.g. `http://127.0.0.1:41234/`. */
  url: string;
  close(): Promise<void>;
}

/** Serves files on 127.0.0.1 with GET, HEAD and single byte ranges, the way a static host would. */
export async function serveStatic(options: StaticServerOptions): Promise<StaticServer> {
  const mounts = Object.entries(options.mounts)
    .map(([prefix, dir]) => [prefix.endsWith('/') ? prefix : `${prefix}/`, resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const server = createServer((req, res) => handle(req, res, mounts, options));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

function handle(req: IncomingMessage, res: ServerResponse, mounts: (readonly [string, string])[], options: StaticServerOptions): void {
  if (options.crossOriginIsolated) {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = resolveFile(path, mounts);
  if (!file) return void res.writeHead(404).end('not found');
  const size = statSync(file).size;
  const range = parseRange(req.headers.range, size);
  if (range === 'invalid') return void res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
  const [start, end] = range ?? [0, size - 1];
  res.writeHead(range ? 206 : 200, {
    'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(end - start + 1),
    'Accept-Ranges': 'bytes',
    'Cache-Control': options.cacheControl ?? 'no-store',
    ...(range ? { 'Content-Range': `bytes ${start}-${end}/${size}` } : {}),
  });
  if (req.method === 'HEAD' || size === 0) return void res.end();
  const cut = options.cutAfter?.(path);
  if (cut === undefined) return void createReadStream(file, { start, end }).pipe(res);
  // The promised Content-Length never arrives: the client sees the connection drop mid-body.
  createReadStream(file, { start, end: Math.min(end, start + cut - 1) })
    .on('end', () => res.destroy())
    .pipe(res, { end: false });
}

/** Maps a URL path to a file inside a mount, refusing `..` escapes; directories serve index.html. */
function resolveFile(path: string, mounts: (readonly [string, string])[]): string | null {
  const mount = mounts.find(([prefix]) => path.startsWith(prefix) || `${path}/` === prefix);
  if (!mount) return null;
  const [prefix, dir] = mount;
  const file = normalize(join(dir, path.slice(prefix.length)));
  if (file !== dir && !file.startsWith(dir + sep)) return null;
  try {
    const stat = statSync(file);
    if (stat.isFile()) return file;
    if (stat.isDirectory() && statSync(join(file, 'index.html')).isFile()) return join(file, 'index.html');
  } catch {
    // missing file: fall through to 404
  }
  return null;
}

/** A single `bytes=a-b` range (what fetch-based downloaders send); multi-range requests get the whole file. */
function parseRange(header: string | undefined, size: number): [number, number] | null | 'invalid' {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header ?? '');
  if (!match || (!match[1] && !match[2])) return null;
  const start = match[1] ? Number(match[1]) : size - Number(match[2]);
  const end = match[1] && match[2] ? Math.min(Number(match[2]), size - 1) : size - 1;
  return start < 0 || start > end ? 'invalid' : [start, end];
}

/**
 * Calls the test pages' `window.harness[method]` (functions and signals stay on the page side), typed by
 * the page's Harness interface: `const call = harnessCaller<Harness>()`.
 */
export function harnessCaller<H extends { [K in keyof H]: (arg: never) => unknown }>() {
  return async <K extends keyof H & string>(page: Page, method: K, arg: Parameters<H[K]>[0]): Promise<Awaited<ReturnType<H[K]>>> => {
    const result: unknown = await page.evaluate(
      ([name, value]) => (window as unknown as { harness: Record<string, (v: unknown) => unknown> }).harness[name]?.(value),
      [method, arg] as const,
    );
    return result as Awaited<ReturnType<H[K]>>;
  };
}
