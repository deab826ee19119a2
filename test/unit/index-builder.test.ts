import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPassages } from '../../index-builder/sources.ts';

function file(lines: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sdg-src-')), 'in.jsonl');
  writeFileSync(path, lines.join('\n'));
  return path;
}

describe('index-builder sources', () => {
  const bench = JSON.stringify({ question_text: 'q', contexts: [{ title: 'A', paragraph_text: 'alpha' }, { title: 'B', paragraph_text: 'beta' }] });

  it('turns benchmark paragraphs and plain passages into deduplicated passages with stable ids', async () => {
    const path = file([bench, JSON.stringify({ id: 'x', title: 'A', text: 'alpha' }), bench]);
    const first = await readPassages(path);
    expect(first.documents.map((d) => d.title)).toEqual(['A', 'B']);
    expect(first.duplicates).toBe(3);
    expect((await readPassages(path)).documents.map((d) => d.id)).toEqual(first.documents.map((d) => d.id));
  });

  it('reports every bad line with its number and reason', async () => {
    const huge = JSON.stringify({ title: 'T', text: 'x'.repeat(1_000_001) });
    const report = await readPassages(file(['{"title": "T", "text": "ok"}', '{broken', '{"contexts": []}', huge, '']));
    expect(report.documents).toHaveLength(1);
    expect(report.skipped).toEqual([
      { line: 2, reason: 'not valid JSON' },
      { line: 3, reason: expect.stringContaining('neither a passage') },
      { line: 4, reason: 'line longer than 1000000 characters' },
    ]);
  });
});
