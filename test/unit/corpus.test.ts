import { describe, expect, it } from 'vitest';
import { parsePassagesJsonl } from '../../src/core/corpus.ts';

describe('passage corpus JSONL', () => {
  it('keeps good lines and reports each bad one with its line number and reason', () => {
    const body = [
      JSON.stringify({ id: 'p1', title: 'Ada Lovelace', text: 'Born in London.' }),
      '{not json',
      JSON.stringify({ id: 2, title: 'London', text: 'Capital of England.' }),
      JSON.stringify({ id: 'p3', title: 'Empty' }),
      '',
    ].join('\n');
    const { documents, skipped } = parsePassagesJsonl(body);
    expect(documents).toEqual([
      { id: 'p1', title: 'Ada Lovelace', text: 'Born in London.' },
      { id: '2', title: 'London', text: 'Capital of England.' },
    ]);
    expect(skipped).toEqual([
      { line: 2, reason: 'not valid JSON' },
      { line: 4, reason: expect.stringContaining('text') },
    ]);
  });
});
