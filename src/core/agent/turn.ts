/**
 * Reads one model step: the thoughts it wrote and the first action it took. Everything after the first
 * action is discarded (an engine whose stop strings failed may run on), and so is everything from a
 * model-written `<information>` on, since only the system may write retrieval results.
 */
import type { FinishReason } from './engine.ts';
import { parseTrace, type TraceBlock } from './trace.ts';

export type Action = { kind: 'search'; query: string } | { kind: 'answer'; text: string };

export type TurnProblem = 'no-action' | 'cut-off' | 'forged-information' | 'empty-action';

export interface Turn {
  thoughts: string[];
  action: Action | null;
  /** Why there is no usable action, when there is none. */
  problem?: TurnProblem;
  /** What the model wrote up to the end of its action: the assistant message kept in the conversation. */
  kept: string;
}

/** Queries longer than this are cut: a rambling model must not send a page of text to the retriever. */
export const MAX_QUERY_CHARS = 300;
export const MAX_ANSWER_CHARS = 500;

function isAction(block: TraceBlock): block is TraceBlock & { type: 'search' | 'answer'; closed: boolean } {
  return block.type === 'search' || block.type === 'answer';
}

export function readTurn(text: string, finish: FinishReason): Turn {
  const thoughts: string[] = [];
  for (const block of parseTrace(text)) {
    if (block.type === 'think' || block.type === 'text') {
      if (block.text) thoughts.push(block.text);
      continue;
    }
    if (block.type === 'information') {
      const start = text.toLowerCase().lastIndexOf('<information>', block.end);
      return { thoughts, action: null, problem: 'forged-information', kept: text.slice(0, Math.max(0, start)).trimEnd() };
    }
    if (isAction(block)) return withAction(text, finish, thoughts, block);
  }
  return { thoughts, action: null, problem: finish === 'length' ? 'cut-off' : 'no-action', kept: text.trimEnd() };
}

function withAction(text: string, finish: FinishReason, thoughts: string[], block: TraceBlock & { type: 'search' | 'answer'; closed: boolean }): Turn {
  // An engine strips the stop string it stopped on, so an open action at a clean stop is complete;
  // one cut by the token limit is not.
  const complete = block.closed || finish === 'stop';
  const kept = block.closed ? text.slice(0, block.end) : `${text.slice(0, block.end).trimEnd()}</${block.type}>`;
  if (!complete) return { thoughts, action: null, problem: 'cut-off', kept: text.trimEnd() };
  if (block.text === '') return { thoughts, action: null, problem: 'empty-action', kept };
  const action: Action =
    block.type === 'search'
      ? { kind: 'search', query: block.text.slice(0, MAX_QUERY_CHARS) }
      : { kind: 'answer', text: block.text.slice(0, MAX_ANSWER_CHARS) };
  return { thoughts, action, kept };
}
