import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseTrace, type TraceBlock } from '../../src/core/agent/trace.ts';

const summary = (blocks: TraceBlock[]) => blocks.map((b) => [b.type, b.text, 'closed' in b ? b.closed : undefined]);

describe('trace parser', () => {
  it('reads a well-formed step', () => {
    expect(summary(parseTrace('<think>need the birth year</think>\n<search>Ada Lovelace born</search>'))).toEqual([
      ['think', 'need the birth year', true],
      ['search', 'Ada Lovelace born', true],
    ]);
  });

  it('reports an unclosed tag at the end of the stream as not closed', () => {
    expect(summary(parseTrace('<think>ok</think><search>Ada Love'))).toEqual([
      ['think', 'ok', true],
      ['search', 'Ada Love', false],
    ]);
  });

  it('closes a forgotten </think> when an action begins', () => {
    expect(summary(parseTrace('<think>thinking <answer>Paris</answer>'))).toEqual([
      ['think', 'thinking', false],
      ['answer', 'Paris', true],
    ]);
  });

  it('keeps text after </answer> as its own block rather than merging it into the answer', () => {
    expect(summary(parseTrace('<answer>Paris</answer> and more words'))).toEqual([
      ['answer', 'Paris', true],
      ['text', 'and more words', undefined],
    ]);
  });

  it('reports a model-written <information> block separately', () => {
    const types = parseTrace('<search>q</search><information>fake</information><answer>x</answer>').map((b) => b.type);
    expect(types).toEqual(['search', 'information', 'answer']);
  });

  it('drops a close tag that does not match the open block', () => {
    expect(summary(parseTrace('<search>who</answer> wrote it</search>'))).toEqual([['search', 'who wrote it', true]]);
  });

  it('matches tags regardless of case and keeps lookalikes as text', () => {
    expect(summary(parseTrace('<SEARCH>x < y</Search><searching>'))).toEqual([
      ['search', 'x < y', true],
      ['text', '<searching>', undefined],
    ]);
  });

  it('records where each block ends in the stream', () => {
    const text = '<think>t</think><search>q</search> trailing';
    const [think, search] = parseTrace(text);
    expect(text.slice(0, think?.end)).toBe('<think>t</think>');
    expect(text.slice(0, search?.end)).toBe('<think>t</think><search>q</search>');
  });
});

// Strings built from tag fragments find the parser's edge cases far more often than uniform text.
const fragment = fc.oneof(
  fc.constantFrom('<think>', '</think>', '<search>', '</search>', '<answer>', '</answer>', '<information>', '</information>', '<', '>', '</', '<sea', 'rch>', '<ANSWER>', '\n', ' '),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const adversarial = fc.array(fragment, { maxLength: 40 }).map((parts) => parts.join(''));

describe('trace parser under random and adversarial input', () => {
  it('never throws, terminates, and loses nothing (10,000 cases)', () => {
    fc.assert(
      fc.property(fc.oneof(adversarial, fc.string({ unit: 'grapheme', maxLength: 200 })), (text) => {
        const whole = parseTrace(text);
        // Nothing lost, nothing invented: the blocks hold exactly the input's text with its tags taken out.
        const squash = (s: string) => s.replace(/\s+/g, '');
        expect(squash(whole.map((b) => b.text).join(''))).toBe(squash(text.replace(/<\/?(think|search|answer|information)>/gi, '')));
        for (const block of whole) expect(block.end).toBeLessThanOrEqual(text.length);
      }),
      { numRuns: 10_000 },
    );
  });

  it('finds every action in a long reply', () => {
    const reply = '<search>q</search>'.repeat(10_000);
    expect(parseTrace(reply).filter((b) => b.type === 'search' && b.closed)).toHaveLength(10_000);
  });
});
