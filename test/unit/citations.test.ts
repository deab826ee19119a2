import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../src/core/agent/agent.ts';
import { citationsFor, MAX_CITATIONS } from '../../src/core/agent/citations.ts';
import type { Passage } from '../../src/core/agent/retriever.ts';

const passage = (id: string, title: string, text: string): Passage => ({ id, title, text, score: 1 });
const found = (turn: number, query: string, passages: Passage[]): AgentEvent => ({ type: 'passages', turn, query, passages, ms: 3 });

const byron = passage('p1', 'Ada Lovelace', 'Her mother was Anne Isabella Milbanke, born in Elmton.');
const elmton = passage('p2', 'Elmton', 'Elmton is a village in Derbyshire, England.');
const other = passage('p3', 'Charles Babbage', 'Babbage designed the Analytical Engine.');

describe('citations', () => {
  it('cites the passages that contain the answer, with the search that found them', () => {
    const events = [found(1, 'Ada Lovelace mother', [byron, other]), found(2, 'Elmton', [elmton, other])];
    const cited = citationsFor(events, 'Elmton');
    expect(cited.map((c) => [c.number, c.passage.id, c.query, c.turn, c.why])).toEqual([
      [1, 'p1', 'Ada Lovelace mother', 1, 'contains-answer'],
      [2, 'p2', 'Elmton', 2, 'contains-answer'],
    ]);
  });

  it('matches after normalisation (case, punctuation, articles)', () => {
    const cited = citationsFor([found(1, 'q', [elmton, other])], 'the ANALYTICAL engine!');
    expect(cited.map((c) => c.passage.id)).toEqual(['p3']);
  });

  it('falls back to the last search when no passage holds the answer', () => {
    const events = [found(1, 'first', [byron]), found(2, 'second', [elmton, other])];
    const cited = citationsFor(events, 'Paris');
    expect(cited.map((c) => [c.passage.id, c.why])).toEqual([
      ['p2', 'last-search'],
      ['p3', 'last-search'],
    ]);
  });

  it('cites a passage found twice once, and at most a handful', () => {
    const many = Array.from({ length: 9 }, (_, i) => passage(`m${i}`, `T${i}`, 'mentions Elmton'));
    const cited = citationsFor([found(1, 'a', many), found(2, 'b', many)], 'Elmton');
    expect(cited).toHaveLength(MAX_CITATIONS);
    expect(new Set(cited.map((c) => c.passage.id)).size).toBe(MAX_CITATIONS);
  });

  it('cites nothing for a run that never searched', () => {
    expect(citationsFor([{ type: 'answer', turn: 1, text: 'Elmton', grounded: false }], 'Elmton')).toEqual([]);
  });
});
