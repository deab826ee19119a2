/**
 * Which retrieved passages an answer rests on. The model does not cite by itself, so the sources are
 * the passages that contain the answer (after SQuAD normalisation); when none does, the passages of the
 * last search, which the model read right before it answered.
 */
import type { AgentEvent } from './agent.ts';
import { normalizeAnswer } from '../eval/metrics.ts';
import type { Passage } from './retriever.ts';

export interface Citation {
  /** 1-based, as shown: [1], [2], … */
  number: number;
  passage: Passage;
  /** The search that found it, and in which step. */
  query: string;
  turn: number;
  why: 'contains-answer' | 'last-search';
}

/** Enough to show the evidence without burying the answer. */
export const MAX_CITATIONS = 5;

interface Found {
  passage: Passage;
  query: string;
  turn: number;
}

export function citationsFor(events: readonly AgentEvent[], answer: string): Citation[] {
  const found = retrieved(events);
  const needle = normalizeAnswer(answer);
  const containing = needle ? found.filter((f) => normalizeAnswer(`${f.passage.title} ${f.passage.text}`).includes(needle)) : [];
  const lastTurn = found.at(-1)?.turn;
  const [chosen, why] = containing.length > 0 ? [containing, 'contains-answer' as const] : [found.filter((f) => f.turn === lastTurn), 'last-search' as const];
  return chosen.slice(0, MAX_CITATIONS).map((f, i) => ({ number: i + 1, ...f, why }));
}

/** Every passage the run retrieved, first sighting kept (the same passage found twice is cited once). */
function retrieved(events: readonly AgentEvent[]): Found[] {
  const seen = new Map<string, Found>();
  for (const event of events) {
    if (event.type !== 'passages') continue;
    for (const passage of event.passages) if (!seen.has(passage.id)) seen.set(passage.id, { passage, query: event.query, turn: event.turn });
  }
  return [...seen.values()];
}
