/**
 * Engines reuse their KV cache across turns only while the conversation they saw stays a prefix of the
 * next request (llama.cpp by tokens, WebLLM by messages). So the agent may only append to it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runAgent, type AgentConfig } from '../../src/core/agent/agent.ts';
import type { ChatMessage } from '../../src/core/agent/engine.ts';
import { alwaysSearch } from '../../src/core/agent/policy.ts';
import { REASON_IN_DOCUMENT_PROMPT } from '../../src/core/agent/prompts.ts';
import { lexicalRetriever } from './helpers/lexical-retriever.ts';
import { ScriptedEngine } from './helpers/scripted-engine.ts';

const retriever = await lexicalRetriever([
  { id: 'a', title: 'Ada Lovelace', text: 'Ada Lovelace was born in London in 1815.' },
  { id: 'b', title: 'London', text: 'London is the capital of England.' },
]);
afterAll(() => retriever.close());

const REPLIES = [
  '<answer>Paris</answer>', // refused: no search yet
  '<think>first the person</think><search>Ada Lovelace</search>',
  '<think>now the city</think><search>London</search>',
  '<search>London</search>', // refused: a repeated query
  '<answer>London</answer>',
];

async function conversations(config: Partial<AgentConfig>) {
  let turn = 0;
  // One scripted reply function: the condenser's calls must not use up the agent's turns.
  const engine = new ScriptedEngine([(request) => (request.messages[0]?.content === REASON_IN_DOCUMENT_PROMPT ? 'Ada Lovelace was born in London.' : (REPLIES[turn++] ?? ''))]);
  let transcript: ChatMessage[] = [];
  for await (const event of runAgent('Where was Ada Lovelace born?', { engine, retriever }, { policy: alwaysSearch, maxRepeatedQueries: 2, ...config })) {
    if (event.type === 'end') transcript = event.transcript;
  }
  const main = engine.requests.filter((r) => r.messages[0]?.content !== REASON_IN_DOCUMENT_PROMPT).map((r) => r.messages);
  const condense = engine.requests.filter((r) => r.messages[0]?.content === REASON_IN_DOCUMENT_PROMPT).map((r) => r.messages);
  return { main, condense, transcript };
}

describe('the conversation prefix stays stable across turns', () => {
  for (const reasonInDocument of [false, true]) {
    it(`only appends an assistant reply and one user message per turn (reason-in-document ${reasonInDocument ? 'on' : 'off'})`, async () => {
      const { main, transcript } = await conversations({ reasonInDocument });
      expect(main).toHaveLength(REPLIES.length);
      for (let i = 1; i < main.length; i++) {
        const [before, after] = [main[i - 1] ?? [], main[i] ?? []];
        expect(after.slice(0, before.length)).toEqual(before);
        expect(after.slice(before.length).map((m) => m.role)).toEqual(['assistant', 'user']);
      }
      const last = main.at(-1) ?? [];
      expect(transcript.slice(0, last.length)).toEqual(last);
      expect(transcript.slice(last.length).map((m) => m.role)).toEqual(['assistant']);
    });
  }

  it('keeps the reason-in-document calls out of the conversation: one separate two-message request per search', async () => {
    const { main, condense } = await conversations({ reasonInDocument: true });
    expect(condense).toHaveLength(2);
    for (const messages of condense) expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(main.flat().some((m) => m.content === REASON_IN_DOCUMENT_PROMPT)).toBe(false);
  });
});
