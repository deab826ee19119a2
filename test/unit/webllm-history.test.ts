import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../../src/core/agent/engine.ts';
import { withVerbatimReply } from '../../src/engines/webllm.ts';

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
