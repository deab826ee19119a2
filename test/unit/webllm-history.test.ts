import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/core/agent/engine.ts';
import type { GenerateResult } from '../../src/core/agent/engine.ts';
import { withStopCut, withVerbatimReply } from '../../src/engines/webllm.ts';

const STOPS = ['</search>', '</answer>'];
const history = (reply: string): ChatMessage[] => [
  { role: 'system', content: 'system' },
  { role: 'user', content: 'Question: who?' },
  { role: 'assistant', content: '<think>old</think><search>first</search>' },
  { role: 'user', content: '<information>…</information>' },
  { role: 'assistant', content: reply },
  { role: 'user', content: '<information>more</information>' },
];

describe('WebLLM history', () => {
  it("sends the engine's last reply back as WebLLM recorded it (cut before its stop string), so it continues on its KV cache", () => {
    const raw = '<think>next</think>\n<search>second query ';
    const sent = withVerbatimReply(history('<think>next</think>\n<search>second query</search>'), { text: raw, stops: STOPS });
    expect(sent[4]?.content).toBe(raw);
    // Everything else goes as the agent wrote it, the earlier reply with its closing tag included.
    expect(sent.filter((_, i) => i !== 4)).toEqual(history('').filter((_, i) => i !== 4));
  });

  it('leaves a history alone that does not end with that reply (another conversation, an edited reply, none before)', () => {
    const messages = history('<search>second query</search>');
    expect(withVerbatimReply(messages, { text: 'the condensed notes of a reason-in-document call', stops: [] })).toBe(messages);
    expect(withVerbatimReply(messages, { text: '<search>other query', stops: STOPS })).toBe(messages);
    expect(withVerbatimReply(messages, null)).toBe(messages);
  });
});

describe('WebLLM replies cut at a stop string', () => {
  const streamed = (text: string, finishReason: GenerateResult['finishReason'] = 'stop'): GenerateResult => ({ text, finishReason, usage: { promptTokens: 9, completionTokens: 4 }, timings: { prefillMs: 1, decodeMs: 2 } });
  const stops = ['</search>', '</answer>'];

  it('takes WebLLM\'s record of the reply where the stream ran into the start of a stop string', () => {
    // "</search>" is three tokens: "</" and "search" streamed before ">" made the stop.
    expect(withStopCut(streamed('<search>who wrote Hamlet</search'), '<search>who wrote Hamlet', stops)).toMatchObject({ text: '<search>who wrote Hamlet', finishReason: 'stop' });
  });

  it('calls a stop that fell on the last allowed token a stop, not a cut-off', () => {
    expect(withStopCut(streamed('<answer>Paris</', 'length'), '<answer>Paris', stops)).toMatchObject({ text: '<answer>Paris', finishReason: 'stop' });
  });

  it('keeps the streamed text where the record differs for any other reason', () => {
    const same = streamed('<search>q');
    expect(withStopCut(same, '<search>q', stops)).toBe(same);
    // Cut by the token limit: the record is no shorter.
    const cut = streamed('<think>long', 'length');
    expect(withStopCut(cut, '<think>long', stops)).toBe(cut);
    // Not a prefix of the streamed text (another request's message), or a shorter record with no stop in the gap.
    expect(withStopCut(same, 'something else', stops)).toBe(same);
    const tail = streamed('<answer>Paris, France', 'length');
    expect(withStopCut(tail, '<answer>Paris', stops)).toBe(tail);
  });
});
