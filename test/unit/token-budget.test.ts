import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ELLIPSIS, estimateTokens, trimToTokens, type TokenCounter } from '../../src/core/agent/token-budget.ts';
import { DEFAULT_PASSAGE_TOKENS, formatPassages } from '../../src/core/agent/prompts.ts';
import { runAgent } from '../../src/core/agent/agent.ts';
import { alwaysSearch } from '../../src/core/agent/policy.ts';
import { lexicalRetriever } from './helpers/lexical-retriever.ts';
import { ScriptedEngine } from './helpers/scripted-engine.ts';

/** One token a word, punctuation included: easy to reason about in assertions. */
const wordCounter: TokenCounter = { count: (text) => text.split(/\s+/).filter(Boolean).length };

describe('trimming a passage to a token budget', () => {
  it('leaves a text within the budget untouched', () => {
    expect(trimToTokens('Ada Lovelace was born in London.', 10, wordCounter)).toBe('Ada Lovelace was born in London.');
  });

  it('cuts a long text at the end of a word, with an ellipsis, within the budget', () => {
    // "born in…" counts as one word-token with the ellipsis glued on.
    expect(trimToTokens('Ada Lovelace was born in London in 1815.', 5, wordCounter)).toBe('Ada Lovelace was born in…');
  });

  it('never cuts inside a word when a word end fits', () => {
    const text = 'Charles Babbage designed the Analytical Engine, a mechanical general-purpose computer.';
    const cut = trimToTokens(text, 10, estimateTokens);
    expect(cut.endsWith(ELLIPSIS)).toBe(true);
    const kept = cut.slice(0, -ELLIPSIS.length);
    expect(text.startsWith(kept)).toBe(true);
    expect(text[kept.length]).toMatch(/\s/);
  });

  it('cuts mid-word only when the first word alone is over the budget', () => {
    const cut = trimToTokens('Supercalifragilisticexpialidocious is long.', 3, estimateTokens);
    expect(cut).toBe(`Supercalifr${ELLIPSIS}`); // 11 letters and the ellipsis: 12 characters, 3 tokens
  });

  it('stays within the budget and keeps a prefix of the text, for any text and budget', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), fc.integer({ min: 1, max: 60 }), (text, budget) => {
        const cut = trimToTokens(text, budget, estimateTokens);
        expect(estimateTokens.count(cut)).toBeLessThanOrEqual(budget);
        const kept = cut.endsWith(ELLIPSIS) && cut !== text ? cut.slice(0, -ELLIPSIS.length) : cut;
        expect(text.startsWith(kept)).toBe(true);
      }),
    );
  });

  it('by default keeps about the 700 characters the old cut kept, ending at a word', () => {
    const text = 'word '.repeat(400).trim();
    const formatted = formatPassages([{ id: 'x', title: 'T', text, score: 1 }]);
    const body = formatted.replace('Doc 1 (Title: T) ', '');
    expect(DEFAULT_PASSAGE_TOKENS * 4).toBe(700);
    expect(body.length).toBeGreaterThan(690);
    expect(body.length).toBeLessThanOrEqual(700);
    expect(body).toMatch(/ word…$/);
  });

  it('uses the counter and cap the agent is given for the passages the model reads', async () => {
    const long = 'Ada Lovelace was born in London in 1815 and wrote the first published algorithm for a machine.';
    const engine = new ScriptedEngine(['<search>Ada Lovelace</search>', '<answer>London</answer>']);
    const retriever = await lexicalRetriever([{ id: 'a', title: 'Ada Lovelace', text: long }]);
    onTestFinished(() => retriever.close());
    const events = runAgent('Where was Ada Lovelace born?', { engine, retriever }, { policy: alwaysSearch, maxPassageTokens: 6, tokenCounter: wordCounter });
    for await (const _ of events) void _;
    expect(engine.requests[1]?.messages.at(-1)?.content).toBe('<information>Doc 1 (Title: Ada Lovelace) Ada Lovelace was born in London…</information>');
  });
});
