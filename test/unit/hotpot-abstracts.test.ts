import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pack } from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectBackpressure, expectClosedWhenStoppedEarly, expectProgressToFileSize } from './helpers/streaming-reader.ts';
import { isHotpotAbstracts, readHotpotAbstracts, type AbstractsOptions, type AbstractsStats } from '../../index-builder/hotpot-abstracts.ts';

/** Fixtures are compressed by Debian's bzip2 (the format's reference tool; .ci/run installs it): npm has
 * no well-kept bz2 compressor. */
const bzip2 = (data: string | Uint8Array) => execFileSync('bzip2', ['-c', '-9'], { input: Buffer.from(data), maxBuffer: 1 << 30 });

const ROOT = 'enwiki-20171001-pages-meta-current-withlinks-abstracts';

type Article = { title: string; text: string };

/** A line as HotpotQA writes it: plain sentences in `text`, the same with links in `text_with_links`. */
function abstract(id: number, title: string, text: string[], withLinks: string[] = text): string {
  const offsets = (sentences: string[]) => sentences.map(() => [[0, 1]]);
  return JSON.stringify({
    id: String(id),
    url: `https://en.wikipedia.org/wiki?curid=${id}`,
    title,
    text,
    charoffset: offsets(text),
    text_with_links: withLinks,
    charoffset_with_links: offsets(withLinks),
  });
}

const jsonLines = (...lines: string[]) => `${lines.join('\n')}\n`;

/** A tar of these members, in order; a member without a body is a directory. */
async function tarOf(members: { name: string; body?: string | Buffer }[]): Promise<Buffer> {
  const archive = pack();
  for (const { name, body } of members) archive.entry(body === undefined ? { name, type: 'directory' } : { name }, body ?? '');
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function tmpFile(name: string, bytes: Uint8Array | string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sdg-hotpot-')), name);
  writeFileSync(path, bytes);
  return realpathSync(path);
}

async function readAll(path: string, options?: AbstractsOptions): Promise<{ articles: Article[]; stats: AbstractsStats }> {
  const articles: Article[] = [];
  const reader = readHotpotAbstracts(path, options);
  for (;;) {
    const next = await reader.next();
    if (next.done) return { articles, stats: next.value };
    articles.push(next.value);
  }
}

const ANARCHISM = [
  'Anarchism is a political philosophy that advocates self-governed societies based on voluntary institutions.',
  ' These are often described as stateless societies.',
];
const ANARCHISM_LINKED = [
  'Anarchism is a <a href="political%20philosophy">political philosophy</a> that advocates <a href="self-governance">self-governed</a> societies based on voluntary institutions.',
  ' These are often described as <a href="stateless%20society">stateless societies</a>.',
];

const MEMBERS = [
  { name: ROOT },
  { name: `${ROOT}/AA` },
  {
    name: `${ROOT}/AA/wiki_00.bz2`,
    body: bzip2(
      jsonLines(
        abstract(12, 'Anarchism', ANARCHISM, ANARCHISM_LINKED),
        abstract(20, 'Merck &amp; Co.', ['Merck &amp; Co. is a drug company.', ' It trades as &quot;MSD&quot; outside the US &amp; Canada, at the Caf&#xE9; &#8216;Voss&#8217;.']),
        // The full (not abstracts) corpus keeps its links in `text` itself.
        abstract(31, 'Quillon Harbour', ['Quillon Harbour is a town on the <a href="Marrow%20peninsula">Marrow peninsula</a>.', ' It was founded by <a href="Edda%20Voss">Edda Voss</a>.']),
      ),
    ),
  },
  // Named .bz2 but plain JSON lines: read as they are.
  { name: `${ROOT}/AA/wiki_01.bz2`, body: jsonLines(abstract(40, 'Edda Voss', ['Edda Voss (1751–1820) was a shipwright.'])) },
  { name: `${ROOT}/README.txt`, body: 'not a member of the corpus\n' },
  { name: `${ROOT}/AB` },
  {
    name: `${ROOT}/AB/wiki_00.bz2`,
    body: bzip2(
      jsonLines(
        abstract(50, 'Marrowland', ['Marrowland is a region.']),
        '',
        '{"id": "51", "title": "Broken',
        abstract(52, '  ', ['A text without a title.']),
        abstract(53, 'No text', []),
        abstract(54, 'Only a link', ['<a href="http%3A//example.org/file.pdf"></a>']),
        '{"id": "55", "title": "Odd", "text": "one string, not sentences"}',
        // A link without anchor text (WikiExtractor writes some) leaves no double space.
        abstract(56, 'Vossberg', ['Vossberg is a hill.', ' It overlooks the <a href="http%3A//example.org/map.pdf"></a> harbour.']),
      ),
    ),
  },
];

const EXPECTED: Article[] = [
  { title: 'Anarchism', text: 'Anarchism is a political philosophy that advocates self-governed societies based on voluntary institutions. These are often described as stateless societies.' },
  { title: 'Merck & Co.', text: 'Merck & Co. is a drug company. It trades as "MSD" outside the US & Canada, at the Café ‘Voss’.' },
  { title: 'Quillon Harbour', text: 'Quillon Harbour is a town on the Marrow peninsula. It was founded by Edda Voss.' },
  { title: 'Edda Voss', text: 'Edda Voss (1751–1820) was a shipwright.' },
  { title: 'Marrowland', text: 'Marrowland is a region.' },
  { title: 'Vossberg', text: 'Vossberg is a hill. It overlooks the harbour.' },
];

/** 12 MB of bz2 around one 12 MB bz2 member (40 MB of JSON lines): far more than the stream buffers hold. */
async function bigArchive(): Promise<string> {
  const lines: string[] = [];
  let seed = 1;
  const word = () => (seed = (seed * 48271) % 2147483647).toString(36).slice(0, 2 + (seed % 6));
  for (let i = 0, size = 0; size < 200_000; i++) {
    const sentences = [0, 1, 2, 3].map((s) => `${s ? ' ' : ''}${Array.from({ length: 15 }, word).join(' ')}.`);
    lines.push(abstract(i, `Filler ${i}`, sentences));
    size += lines.at(-1)?.length ?? 0;
  }
  // bz2 streams may follow one another in a file, so one compressed piece, repeated, is a valid bz2 of the
  // text repeated: 40 MB are compressed in the time of 200 kB.
  const piece = bzip2(jsonLines(...lines));
  const copies = 200;
  const tar = await tarOf([{ name: `${ROOT}/AA/wiki_00.bz2`, body: Buffer.concat(Array.from({ length: copies }, () => piece)) }]);
  const dataEnd = 512 + piece.length * copies;
  const outerPiece = bzip2(piece);
  return tmpFile('big.tar.bz2', Buffer.concat([bzip2(tar.subarray(0, 512)), ...Array.from({ length: copies }, () => outerPiece), bzip2(tar.subarray(dataEnd))]));
}

/** How many descriptors this process holds on `path` (Linux only). */

describe('HotpotQA abstracts reader', () => {
  let tar: Buffer = Buffer.alloc(0);
  let plain = '';
  let compressed = '';
  let big = '';
  beforeAll(async () => {
    tar = await tarOf(MEMBERS);
    plain = tmpFile(`${ROOT}.tar`, tar);
    compressed = tmpFile(`${ROOT}.tar.bz2`, bzip2(tar));
    big = await bigArchive();
  });

  it('knows the archive by its name', () => {
    expect(isHotpotAbstracts(`/data/${ROOT}.tar.bz2`)).toBe(true);
    expect(isHotpotAbstracts('abstracts.TAR')).toBe(true);
    expect(isHotpotAbstracts('enwiki-latest-pages-articles.xml.bz2')).toBe(false);
    expect(isHotpotAbstracts('passages.jsonl')).toBe(false);
  });

  it('turns each abstract into its title and plain text: sentences joined, links cut to their anchor text, entities decoded', async () => {
    const { articles } = await readAll(compressed);
    expect(articles).toEqual(EXPECTED);
  });

  it('reads every .bz2 member, bz2 or plain, and passes over folders and other files', async () => {
    const { stats } = await readAll(compressed);
    expect(stats.members).toBe(3);
    expect(stats.lines).toBe(3 + 1 + 8);
    expect(stats.articles).toBe(EXPECTED.length);
  });

  it('reports each line it drops with its member and line number, and passes over blank lines', async () => {
    const { stats } = await readAll(compressed);
    const member = `${ROOT}/AB/wiki_00.bz2`;
    expect(stats.skipped).toEqual([
      { member, line: 3, reason: 'not valid JSON' },
      { member, line: 4, reason: 'no title' },
      { member, line: 5, reason: 'empty text' },
      { member, line: 6, reason: 'empty text' },
      { member, line: 7, reason: 'not an abstract {title, text: [sentences]}' },
    ]);
  });

  it('drops a line over a million characters without keeping it', async () => {
    const long = abstract(60, 'Long', ['x'.repeat(1_000_001)]);
    const archive = tmpFile('long.tar', await tarOf([{ name: `${ROOT}/AC/wiki_00.bz2`, body: jsonLines(long, abstract(61, 'Short', ['Short.'])) }]));
    const { articles, stats } = await readAll(archive);
    expect(articles).toEqual([{ title: 'Short', text: 'Short.' }]);
    expect(stats.skipped).toEqual([{ member: `${ROOT}/AC/wiki_00.bz2`, line: 1, reason: 'line longer than 1000000 characters' }]);
  });

  it('reads a plain tar the same, and knows bz2 by its content, whatever the file is called', async () => {
    expect(await readAll(plain)).toEqual(await readAll(compressed));
    const renamed = tmpFile('abstracts.tar', readFileSync(compressed));
    expect((await readAll(renamed)).articles).toEqual(EXPECTED);
  });

  it('stops after the limit without reading the rest of the file', async () => {
    expect((await readAll(compressed, { limit: 4 })).articles).toEqual(EXPECTED.slice(0, 4));
    let bytes = 0;
    const { articles, stats } = await readAll(big, { limit: 2, onBytes: (n) => (bytes = n) });
    expect(articles.map((a) => a.title)).toEqual(['Filler 0', 'Filler 1']);
    expect(stats.articles).toBe(2);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThan(statSync(big).size / 4);
    expect((await readAll(compressed, { limit: 0 })).articles).toEqual([]);
  });

  it('reads only as fast as a slow consumer pulls', async () => {
    await expectBackpressure(readHotpotAbstracts, big, 'Filler 0');
  });

  it('reports read progress in bytes of the compressed file', async () => {
    await expectProgressToFileSize(readHotpotAbstracts, compressed);
  });

  it.runIf(existsSync('/proc/self/fd'))('closes the file when the reader stops early: limit, break, or an abort the consumer does not follow up', async () => {
    await expectClosedWhenStoppedEarly(readHotpotAbstracts, big, 'Filler 0');
  });

  it('rejects a cut-off bz2 archive instead of returning part of it, naming the file', async () => {
    const bytes = readFileSync(compressed);
    const cut = tmpFile('cut.tar.bz2', bytes.subarray(0, Math.floor(bytes.length / 2)));
    await expect(readAll(cut)).rejects.toThrow(`cannot read ${cut}: the archive ends early or is corrupt`);
  });

  it('rejects a tar cut at a member boundary, which only its missing end blocks tell', async () => {
    const cut = tmpFile('cut.tar', tar.subarray(0, tar.length - 1024));
    await expect(readAll(cut)).rejects.toThrow(`cannot read ${cut}: the archive ends early or is corrupt (no end-of-archive blocks)`);
  });

  it('rejects a cut-off member, naming it', async () => {
    const member = bzip2(jsonLines(abstract(70, 'Cut', ['This member was cut short.'])));
    const archive = tmpFile('cut-member.tar', await tarOf([{ name: `${ROOT}/AD/wiki_00.bz2`, body: member.subarray(0, member.length - 8) }]));
    await expect(readAll(archive)).rejects.toThrow(`cannot read ${archive}: the archive ends early or is corrupt (at ${ROOT}/AD/wiki_00.bz2: `);
  });

  it('rejects a file that is not a tar, and a missing file with its own error', async () => {
    const notTar = tmpFile('notes.tar.bz2', bzip2('just some text, no tar headers\n'.repeat(40)));
    await expect(readAll(notTar)).rejects.toThrow(`cannot read ${notTar}: the archive ends early or is corrupt`);
    await expect(readAll(join(tmpdir(), 'no-such-archive.tar.bz2'))).rejects.toThrow('ENOENT');
  });

  it('throws the abort reason, before reading or while reading, within a few articles of a busy reader', async () => {
    await expect(readAll(compressed, { signal: AbortSignal.abort(new Error('stopped by the user')) })).rejects.toThrow('stopped by the user');
    const controller = new AbortController();
    const read: Article[] = [];
    const reading = (async () => {
      for await (const article of readHotpotAbstracts(big, { signal: controller.signal })) {
        // Like Ctrl-C: the abort comes from the event loop, not from the consumer's own code.
        if (read.push(article) === 1) setTimeout(() => controller.abort(new Error('enough')), 0);
      }
    })();
    await expect(reading).rejects.toThrow('enough');
    expect(read.length).toBeLessThan(20);
  });
});
