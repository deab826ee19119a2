/**
 * What an exported SFT row must be for the trainers the README points at, as their loaders check it:
 * TRL's conversational dataset (`messages`, each `{role, content}`), and LLaMA-Factory's sharegpt
 * converter with role/content tags (after an optional leading system turn, user or tool turns at even
 * places and assistant turns at odd ones, ending with an assistant turn, or the row is skipped as
 * "abnormal"). Then the always-search rules: tool turns are the search's `<information>`, the model never
 * writes one, and its first action is a search.
 */
import { SEARCH_AGENT_PROMPT } from '../../../src/core/agent/prompts.ts';

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

interface Message {
  role: string;
  content: string;
}

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && typeof (m as Message).role === 'string' && typeof (m as Message).content === 'string';

/** Every way `row` breaks the schema; empty when a trainer reads it as intended. */
export function sftRowProblems(row: unknown): string[] {
  const messages = (row as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || !messages.every(isMessage)) return ['messages is not a list of {role, content}'];
  const problems = messages.filter((m) => !ROLES.has(m.role)).map((m) => `unknown role ${m.role}`);
  if (messages[0]?.role !== 'system' || messages[0].content !== SEARCH_AGENT_PROMPT) problems.push("the first turn is not the app's system prompt");
  const turns = messages.slice(1);
  turns.forEach((m, i) => {
    const expected = i % 2 === 0 ? ['user', 'tool'] : ['assistant'];
    if (!expected.includes(m.role)) problems.push(`turn ${i + 1} is ${m.role}, LLaMA-Factory expects ${expected.join(' or ')}`);
  });
  if (turns.at(-1)?.role !== 'assistant') problems.push('the last turn is not the assistant’s');
  for (const m of messages) {
    if (m.role === 'tool' && !/^<information>[\s\S]*<\/information>$/.test(m.content)) problems.push('a tool turn is not an <information> block');
    if (m.role === 'assistant' && m.content.includes('<information>')) problems.push('an assistant turn writes <information>');
  }
  const firstAction = turns.find((m) => m.role === 'assistant' && /<(search|answer)>/.test(m.content.replace(/<think>[\s\S]*?<\/think>/g, '')));
  if (!firstAction?.content.replace(/<think>[\s\S]*?<\/think>/g, '').includes('<search>')) problems.push('the first action is not a search');
  return problems;
}
