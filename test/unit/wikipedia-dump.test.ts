import { existsSync, mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectBackpressure, expectClosedWhenStoppedEarly, expectProgressToFileSize } from './helpers/streaming-reader.ts';
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
  return realpathSync(path);
}

/** An 8 MB dump: far more than the stream buffers hold, so reading all of it would show. */
function bigDump(): string {
  const page = (i: number) =>
    `<page><title>Filler ${i}</title><ns>0</ns><revision><text>'''Filler ${i}''' ${'is a [[filler]] page. '.repeat(90)}</text></revision></page>\n`;
  return tmpFile('big.xml', `<mediawiki>\n${Array.from({ length: 4000 }, (_, i) => page(i)).join('')}</mediawiki>\n`);
}

/** How many descriptors this process holds on `path` (Linux only). */

describe('Wikipedia dump reader', () => {
  let big = '';
  beforeAll(() => {
    big = bigDump();
  });

  it('turns an article into plain text: markup, templates, references and headings gone, link text kept', async () => {
    const { articles } = await readAll(BZ2);
    expect(articles.map((a) => a.title)).toEqual(['Quillon Harbour', 'Edda Voss', 'Marrowland']);
    expect(articles[0]?.text).toBe(
      'Quillon Harbour is a small fishing town on the coast of the Marrow peninsula. It was founded by Edda Voss in 1788. The town lives from herring and from its lighthouse museum.',
    );
  });

  it('skips redirects, other namespaces and empty pages, and counts each', async () => {
    const { articles, stats } = await readAll(BZ2);
    expect(articles.map((a) => a.title)).not.toContain('Edda');
    expect(stats).toEqual({ pages: 7, accepted: 3, skipped: { 'not an article': 2, redirect: 1, 'too large': 0, empty: 1 } });
  });

  it('skips redirects marked only by the element (localised) or only by the text (old dumps), and pages over 5 MB', async () => {
    const page = (title: string, inner: string) => `<page><title>${title}</title><ns>0</ns>${inner}</page>`;
    const dump = tmpFile(
      'odd.xml',
      `<mediawiki>${[
        page('Weiterleitung', '<redirect title="Ziel"/><revision><text>#WEITERLEITUNG [[Ziel]]</text></revision>'),
        page('Old redirect', '<revision><text>#redirect [[Target]]</text></revision>'),
        page('Huge', `<revision><text>${'Very long. '.repeat(500_000)}</text></revision>`),
        page('Kept', "<revision><text>'''Kept''' stays.</text></revision>"),
      ].join('')}</mediawiki>`,
    );
    const { articles, stats } = await readAll(dump);
    expect(articles).toEqual([{ title: 'Kept', text: 'Kept stays.' }]);
    expect(stats.skipped).toMatchObject({ redirect: 2, 'too large': 1 });
  });

  it('takes the last revision of a page from a history dump', async () => {
    const revisions = ['First draft.', 'Final wording.'].map((text) => `<revision><text>${text}</text></revision>`).join('');
    const dump = tmpFile('history.xml', `<mediawiki><page><title>Draft</title><ns>0</ns>${revisions}</page></mediawiki>`);
    expect((await readAll(dump)).articles).toEqual([{ title: 'Draft', text: 'Final wording.' }]);
  });

  it('reads the uncompressed XML the same, and knows bz2 by its content, whatever the file is called', async () => {
    expect(await readAll(XML)).toEqual(await readAll(BZ2));
    const renamed = tmpFile('dump.xml', readFileSync(BZ2));
    expect((await readAll(renamed)).articles).toEqual((await readAll(BZ2)).articles);
  });

  it('keeps only the listed titles, underscores and outer spaces not counting', async () => {
    const { articles } = await readAll(BZ2, { titles: new Set(['Edda_Voss', ' Marrowland ']) });
    expect(articles.map((a) => a.title)).toEqual(['Edda Voss', 'Marrowland']);
  });

  it('stops after the limit without reading the rest of the file', async () => {
    let bytes = 0;
    const { articles, stats } = await readAll(big, { limit: 2, onBytes: (n) => (bytes = n) });
    expect(articles.map((a) => a.title)).toEqual(['Filler 0', 'Filler 1']);
    expect(stats.accepted).toBe(2);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(statSync(big).size / 4);
    expect((await readAll(big, { limit: 0 })).articles).toEqual([]);
  });

  it('reads only as fast as a slow consumer pulls', async () => {
    await expectBackpressure(readWikipediaDump, big, 'Filler 0');
  });

  it('reports read progress in bytes of the compressed file', async () => {
    await expectProgressToFileSize(readWikipediaDump, BZ2);
  });

  it.runIf(existsSync('/proc/self/fd'))('closes the file when the reader stops early: limit, break, or an abort the consumer does not follow up', async () => {
    await expectClosedWhenStoppedEarly(readWikipediaDump, big, 'Filler 0');
  });

  it('rejects a cut-off bz2 file instead of returning part of it', async () => {
    const bytes = readFileSync(BZ2);
    const cut = tmpFile('cut.xml.bz2', bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(readAll(cut)).rejects.toThrow(`cannot read ${cut}: the dump ends early or is corrupt`);
  });

  it('rejects a cut-off XML file', async () => {
    const xml = readFileSync(XML, 'utf8');
    await expect(readAll(tmpFile('cut.xml', xml.slice(0, xml.indexOf('<title>Marrowland'))))).rejects.toThrow(/the dump ends early or is corrupt: .*unclosed tag/);
  });

  it('rejects malformed XML, naming the file, line and column', async () => {
    const xml = readFileSync(XML, 'utf8');
    const line = xml.slice(0, xml.indexOf('<ns>0</ns>')).split('\n').length;
    const broken = tmpFile('broken.xml', xml.replace('<ns>0</ns>', '<ns>0</title>'));
    await expect(readAll(broken)).rejects.toThrow(new RegExp(`not well-formed XML: ${broken}:${line}:\\d+: unexpected close tag`));
  });

  it('throws the abort reason, before reading or while reading, within a few pages of a busy reader', async () => {
    await expect(readAll(BZ2, { signal: AbortSignal.abort(new Error('stopped by the user')) })).rejects.toThrow('stopped by the user');
    const controller = new AbortController();
    const read: WikiArticle[] = [];
    const reading = (async () => {
      for await (const article of readWikipediaDump(big, { signal: controller.signal })) {
        // Like Ctrl-C: the abort comes from the event loop, not from the consumer's own code.
        if (read.push(article) === 1) setTimeout(() => controller.abort(new Error('enough')), 0);
      }
    })();
    await expect(reading).rejects.toThrow('enough');
    expect(read.length).toBeLessThan(20);
  });
});
