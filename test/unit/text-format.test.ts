/** Counts and times as the page writes them. */
import { describe, expect, it } from 'vitest';
import { timeLeft } from '../../src/core/util/eta.ts';
import { plural } from '../../src/core/util/plural.ts';

describe('plural', () => {
  it('writes one of a thing in the singular, and none or many in the plural', () => {
    expect(plural(1, 'search', 'searches')).toBe('1 search');
    expect(plural(0, 'search', 'searches')).toBe('0 searches');
    expect(plural(3, 'passage', 'passages')).toBe('3 passages');
  });
});

describe('timeLeft', () => {
  it('says the time left the same way on every page, in seconds, minutes or hours', () => {
    expect(timeLeft(42.2)).toBe('about 43 s left');
    expect(timeLeft(130)).toBe('about 2 min 10 s left');
    expect(timeLeft(3 * 3600 + 5 * 60)).toBe('about 3 h 5 min left');
  });
});
