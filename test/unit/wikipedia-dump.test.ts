import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readWikipediaDump, type DumpOptions, type DumpStats, type WikiArticle } from '../../index-builder/wikipedia-dump.ts';

const XML = fileURLToPath(new URL('../fixtures/wiki-mini.xml', import.meta.url));
const BZ2 = `${XML}.bz2`;

async function readAll(path: string, options?: DumpOptions): Promise<{ articles: WikiArticle[]; stats: DumpStats }> {
  const articles: WikiArticle[] = [];
  const dump = readWikipediaDump(path, options);
  for (;;) {
    const next = await dump.next();
    if (next.done) return { articles, stats: next.value };
    articles.push(next.value);
  }
}

function tmpFile(name: string, bytes: Uint8Array | string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sdg-wiki-')), name);
  writeFileSync(path, bytes);
  return path;
}

describe('Wikipedia dump reader', () => {
  it('turns articles into plain text: markup, templates and references gone, link text kept', async () => {
    const { articles } = await readAll(BZ2);
    expect(articles.map((a) => a.title)).toEqual(['Quillon Harbour', 'Edda Voss', 'Marrowland']);
    const text = articles[0]?.text ?? '';
    expect(text).toContain('Quillon Harbour is a small fishing town on the coast of the Marrow peninsula.');
    expect(text).toContain('lighthouse museum');
    expect(text).not.toMatch(/Infobox|population|Harbour survey|\[\[|'''|==/);
  });

  it('skips redirects, other namespaces and empty pages, and counts each', async () => {
    const { stats } = await readAll(BZ2);
    expect(stats).toEqual({ pages: 7, accepted: 3, skipped: { 'not an article': 2, redirect: 1, 'too large': 0, empty: 1 } });
  });

  it('reads the uncompressed XML the same, whatever the file is called', async () => {
    expect(await readAll(XML)).toEqual(await readAll(BZ2));
    const renamed = tmpFile('dump.xml', readFileSync(BZ2));
    expect((await readAll(renamed)).articles).toEqual((await readAll(BZ2)).articles);
  });

  it('keeps only the listed titles, with underscores for spaces', async () => {
    const { articles } = await readAll(BZ2, { titles: new Set(['Edda_Voss', 'Marrowland']) });
    expect(articles.map((a) => a.title)).toEqual(['Edda Voss', 'Marrowland']);
  });

  it('stops after the limit', async () => {
    const { articles, stats } = await readAll(BZ2, { limit: 2 });
    expect(articles).toHaveLength(2);
    expect(stats.accepted).toBe(2);
  });

  it('reports read progress in bytes of the file', async () => {
    let bytes = 0;
    await readAll(BZ2, { onBytes: (n) => (bytes = n) });
    expect(bytes).toBe(readFileSync(BZ2).byteLength);
  });

  it('rejects a cut-off bz2 file instead of returning part of it', async () => {
    const bytes = readFileSync(BZ2);
    await expect(readAll(tmpFile('cut.xml.bz2', bytes.subarray(0, Math.floor(bytes.length / 2))))).rejects.toThrow(/cannot read|ends early|corrupt/);
  });

  it('rejects malformed XML, saying where', async () => {
    const broken = readFileSync(XML, 'utf8').replace('<ns>0</ns>', '<ns>0</title>');
    await expect(readAll(tmpFile('broken.xml', broken))).rejects.toThrow(/not well-formed XML: .*\d+:\d+/);
  });

  it('stops when aborted', async () => {
    await expect(readAll(BZ2, { signal: AbortSignal.abort(new Error('stopped by the user')) })).rejects.toThrow('stopped by the user');
  });
});
