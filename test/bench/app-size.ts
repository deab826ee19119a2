/**
 * What the app costs before a model loads: the JavaScript a first visit must download (the entry chunk,
 * its static imports and the other scripts index.html names; not lazy chunks or workers), gzipped as a
 * static host serves it, and the first contentful paint in headless Debian Chromium, cold and then from
 * the browser's cache (HTTP cache and the app's service worker).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { BrowserContext } from 'playwright-core';
import { build } from 'vite';
import { launchChromium, serveStatic } from '../browser/chromium.ts';
import { percentile } from '../../src/core/eval/stats.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface AppSizeReport {
  buildMs: number;
  /** Scripts loaded before any model: their count, bytes and gzip (level 6, a static host's default) bytes. */
  initialJsFiles: number;
  initialJsBytes: number;
  initialJsGzipBytes: number;
  /** Every script the build emits (lazy engines, workers, the service worker), for scale. */
  allJsGzipBytes: number;
  cssGzipBytes: number;
  firstPaintColdMs: number;
  /** Median over `paints` reloads. */
  firstPaintCachedMs: number;
  /** Share of the initial scripts the cached load took from a cache (transferSize 0). */
  cachedScriptShare: number;
}

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  css?: string[];
}

export async function appSizeBench(options: { paints: number; log: (line: string) => void }): Promise<AppSizeReport> {
  const outDir = mkdtempSync(join(tmpdir(), 'sdg-app-size-'));
  try {
    options.log('app size: vite build…');
    const started = performance.now();
    await build({ root: ROOT, logLevel: 'error', build: { outDir, emptyOutDir: true, reportCompressedSize: false, manifest: true } });
    const buildMs = performance.now() - started;
    const sizes = sizeOf(outDir);
    options.log('app size: first paint in Chromium…');
    return { buildMs, ...sizes, ...(await firstPaint(outDir, options.paints)) };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

function sizeOf(outDir: string): Pick<AppSizeReport, 'initialJsFiles' | 'initialJsBytes' | 'initialJsGzipBytes' | 'allJsGzipBytes' | 'cssGzipBytes'> {
  const manifest = JSON.parse(readFileSync(join(outDir, '.vite/manifest.json'), 'utf8')) as Record<string, ManifestChunk>;
  const initial = new Set([...scriptsOfHtml(readFileSync(join(outDir, 'index.html'), 'utf8')), ...staticClosure(manifest)]);
  const css = new Set(Object.values(manifest).flatMap((c) => (c.isEntry ? (c.css ?? []) : [])));
  const all = readdirSync(outDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js') || f.endsWith('.mjs'));
  const bytes = (files: Iterable<string>) => [...files].map((f) => readFileSync(join(outDir, f)));
  const gzip = (files: Iterable<string>) => bytes(files).reduce((s, b) => s + gzipSync(b, { level: 6 }).length, 0);
  return {
    initialJsFiles: initial.size,
    initialJsBytes: bytes(initial).reduce((s, b) => s + b.length, 0),
    initialJsGzipBytes: gzip(initial),
    allJsGzipBytes: gzip(all),
    cssGzipBytes: gzip(css),
  };
}

/** Classic and module scripts and module preloads that index.html itself loads. */
function scriptsOfHtml(html: string): string[] {
  const found = [...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g), ...html.matchAll(/<link\b[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)];
  return found.map((m) => (m[1] ?? '').replace(/^\.?\//, '')).filter((f) => f.endsWith('.js'));
}

/** The entry chunks and everything they import statically (dynamic imports load later, on demand). */
function staticClosure(manifest: Record<string, ManifestChunk>): string[] {
  const files = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const next of chunk.imports ?? []) visit(next);
  };
  for (const [key, chunk] of Object.entries(manifest)) if (chunk.isEntry) visit(key);
  return [...files].filter((f) => f.endsWith('.js'));
}

/** Long-lived caching, as a static host serves hashed assets; index.html revalidates like any page. */
const CACHE_CONTROL = 'public, max-age=31536000';

async function firstPaint(outDir: string, paints: number): Promise<Pick<AppSizeReport, 'firstPaintColdMs' | 'firstPaintCachedMs' | 'cachedScriptShare'>> {
  const server = await serveStatic({ mounts: { '/': outDir }, cacheControl: CACHE_CONTROL });
  const browser = await launchChromium();
  try {
    const cold = await paintOnce(browser.context, server.url);
    await browser.context.pages()[0]?.evaluate(() => navigator.serviceWorker?.ready.then(() => undefined)).catch(() => undefined);
    const cached: PaintSample[] = [];
    for (let i = 0; i < Math.max(1, paints); i++) cached.push(await paintOnce(browser.context, server.url));
    return {
      firstPaintColdMs: cold.fcpMs,
      firstPaintCachedMs: percentile(cached.map((c) => c.fcpMs), 50),
      cachedScriptShare: cached.at(-1)?.cachedScriptShare ?? NaN,
    };
  } finally {
    await browser.close();
    await server.close();
  }
}

interface PaintSample {
  fcpMs: number;
  cachedScriptShare: number;
}

/** Opens the app in a new tab of the same profile (so its caches carry over) and reads its paint timing. */
async function paintOnce(context: BrowserContext, url: string): Promise<PaintSample> {
  const page = await context.newPage();
  try {
    await page.goto(url, { waitUntil: 'load' });
    return await page.evaluate(
      () =>
        new Promise<PaintSample>((resolve) => {
          // A page that never paints content reports NaN rather than hanging the bench.
          setTimeout(() => resolve({ fcpMs: NaN, cachedScriptShare: NaN }), 15_000);
          new PerformanceObserver((list, observer) => {
            const fcp = list.getEntriesByName('first-contentful-paint')[0];
            if (!fcp) return;
            observer.disconnect();
            const scripts = performance.getEntriesByType('resource').filter((e) => (e as PerformanceResourceTiming).initiatorType === 'script' || e.name.endsWith('.js')) as PerformanceResourceTiming[];
            const cachedScriptShare = scripts.length ? scripts.filter((s) => s.transferSize === 0).length / scripts.length : NaN;
            resolve({ fcpMs: fcp.startTime, cachedScriptShare });
          }).observe({ type: 'paint', buffered: true });
        }),
    );
  } finally {
    await page.close();
  }
}
