import { describe, expect, it } from 'vitest';
import { exactMatch, normalizeAnswer, stringF1 } from '../../src/core/eval/metrics.ts';

// Expected values worked out by hand from SQuAD's official evaluation rules.
describe('SQuAD normalisation', () => {
  it('lower-cases, strips ASCII punctuation and articles, collapses spaces', () => {
    expect(normalizeAnswer('  The  Eiffel-Tower, Paris! ')).toBe('eiffeltower paris');
    expect(normalizeAnswer('An apple a day')).toBe('apple day');
    expect(normalizeAnswer('theatre')).toBe('theatre');
  });
});

describe('String-F1 and EM', () => {
  it('scores an exact answer 1', () => {
    expect(stringF1('Barack Obama', ['barack obama'])).toBe(1);
    expect(exactMatch('The Barack Obama.', ['barack obama'])).toBe(1);
  });

  it('gives partial credit by token overlap', () => {
    // pred {barack, obama, jr} vs gold {barack, obama}: P = 2/3, R = 1, F1 = 0.8
    expect(stringF1('Barack Obama Jr', ['Barack Obama'])).toBeCloseTo(0.8, 10);
    expect(exactMatch('Barack Obama Jr', ['Barack Obama'])).toBe(0);
  });

  it('counts repeated tokens only as often as the gold has them', () => {
    // pred {new, new, york}, gold {new, york}: common 2, P = 2/3, R = 1, F1 = 0.8
    expect(stringF1('new new york', ['New York'])).toBeCloseTo(0.8, 10);
  });

  it('takes the best score over gold aliases', () => {
    expect(stringF1('NYC', ['New York City', 'NYC'])).toBe(1);
    // vs "new york city": P = 1, R = 2/3 → 0.8; vs "big apple": 0
    expect(stringF1('New York', ['big apple', 'New York City'])).toBeCloseTo(0.8, 10);
  });

  it('scores yes/no only on an exact match', () => {
    expect(stringF1('no', ['no'])).toBe(1);
    expect(stringF1('yes it is', ['yes'])).toBe(0);
    expect(stringF1('no', ['no way'])).toBe(0);
  });

  it('scores 0 for an empty prediction and for no gold answers', () => {
    expect(stringF1('', ['Paris'])).toBe(0);
    expect(stringF1('Paris', [])).toBe(0);
    expect(exactMatch('the', ['a'])).toBe(1); // both normalise to the empty string
  });
});
