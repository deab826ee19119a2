/**
 * The paper's data recipe for always-search fine-tuning: keep a trace only if it is right (String-F1 at
 * least 0.65), grounded (its first action was a search, and it searched before it answered) and free of
 * parametric-knowledge phrases ("I remember", …), then export the kept ones as chat-format JSONL for
 * supervised fine-tuning.
 *
 * A row is `{"id", "messages": [...]}` with OpenAI-style roles, which TRL's SFTTrainer reads as a
 * conversational dataset and LLaMA-Factory's sharegpt loader reads with role/content tags: `system` (the
 * app's agent prompt, whatever prompt a teacher ran with, since the small model will be given the app's),
 * `user` (the question, and the agent's nudges), `assistant` (the model's own turns: the only ones to
 * train on) and `tool` (each `<information>` turn the search wrote). Both tools leave non-assistant turns
 * out of the loss by role (TRL with `assistant_only_loss=True`; LLaMA-Factory by default, with `tool` as
 * its `observation_tag`); neither honours a per-turn flag, so the role is the mark.
 */
import type { ChatMessage } from '../agent/engine.ts';
import { SEARCH_AGENT_PROMPT } from '../agent/prompts.ts';
import type { QuestionResult } from './benchmark.ts';
import { plural } from '../util/plural.ts';

export const DEFAULT_PARAMETRIC_PHRASES = ['i remember', 'i recall', 'as i know', 'i know that', 'from memory', 'from my knowledge', 'as far as i know', 'i believe', 'it is well known', 'if i recall'];

export type DropReason = 'not answered' | 'low F1' | 'no search before the answer' | 'parametric phrase';

export interface FilterOptions {
  minF1: number;
  phrases: readonly string[];
}

export const DEFAULT_FILTER: FilterOptions = { minF1: 0.65, phrases: DEFAULT_PARAMETRIC_PHRASES };

export interface FilterReport {
  kept: QuestionResult[];
  dropped: { id: string; reasons: DropReason[]; phrase?: string }[];
  /** How many traces each rule dropped (a trace can fail several). */
  counts: Record<DropReason, number>;
}

export function filterTraces(results: readonly QuestionResult[], options: FilterOptions = DEFAULT_FILTER): FilterReport {
  const report: FilterReport = { kept: [], dropped: [], counts: { 'not answered': 0, 'low F1': 0, 'no search before the answer': 0, 'parametric phrase': 0 } };
  for (const result of results) {
    const phrase = parametricPhrase(result, options.phrases);
    const reasons: DropReason[] = [];
    if (result.prediction === null) reasons.push('not answered');
    if (result.f1 < options.minF1) reasons.push('low F1');
    if (!result.grounded || !searchedFirst(result.transcript)) reasons.push('no search before the answer');
    if (phrase) reasons.push('parametric phrase');
    for (const reason of reasons) report.counts[reason]++;
    if (reasons.length === 0) report.kept.push(result);
    else report.dropped.push({ id: result.id, reasons, ...(phrase && { phrase }) });
  }
  return report;
}

/** The first listed phrase the model itself wrote (retrieved passages may say anything). */
function parametricPhrase(result: QuestionResult, phrases: readonly string[]): string | undefined {
  const written = result.transcript
    .filter((m) => m.role === 'assistant')
    .map((m) => m.content.toLowerCase().replace(/\s+/g, ' '))
    .join('\n');
  return phrases.find((phrase) => written.includes(phrase.toLowerCase()));
}

/**
 * Whether the model's first action was a search. An answer from memory that the agent refused (and then
 * nudged to search) still leaves a grounded trace, but training on that turn would teach the guess.
 */
function searchedFirst(transcript: readonly ChatMessage[]): boolean {
  for (const message of transcript) {
    if (message.role !== 'assistant') continue;
    const acted = message.content.replace(/<think>[\s\S]*?(<\/think>|$)/g, '');
    const search = acted.indexOf('<search>');
    const answer = acted.indexOf('<answer>');
    if (answer >= 0 && (search < 0 || answer < search)) return false;
    if (search >= 0) return true;
  }
  return false;
}

export type SftRole = 'system' | 'user' | 'assistant' | 'tool';

export interface SftRow {
  id: string;
  messages: { role: SftRole; content: string }[];
}

/** A kept trace as a fine-tuning row: the conversation the model had, in the roles trainers mask by. */
export function sftRow(result: QuestionResult): SftRow {
  const messages = result.transcript.map((m): SftRow['messages'][number] => {
    if (m.role === 'system') return { role: 'system', content: SEARCH_AGENT_PROMPT };
    if (m.role === 'user' && m.content.startsWith('<information>')) return { role: 'tool', content: m.content };
    return { role: m.role, content: m.content };
  });
  return { id: result.id, messages };
}

/** One JSON line per kept trace (see `sftRow`). */
export function sftJsonl(kept: readonly QuestionResult[]): string {
  return kept.map((r) => JSON.stringify(sftRow(r))).join('\n') + (kept.length ? '\n' : '');
}

/** "kept 3 of 10 traces; dropped 7: 5 low F1 (String-F1 below 0.65), 2 parametric phrase", for a log or a page. */
export function filterSummary(report: FilterReport, options: FilterOptions = DEFAULT_FILTER): string {
  const total = report.kept.length + report.dropped.length;
  const kept = `kept ${report.kept.length} of ${plural(total, 'trace', 'traces')}`;
  if (report.dropped.length === 0) return kept;
  const reasons = (Object.entries(report.counts) as [DropReason, number][])
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${n} ${reason}${reason === 'low F1' ? ` (String-F1 below ${options.minF1})` : ''}`);
  return `${kept}; dropped ${report.dropped.length}: ${reasons.join(', ')}`;
}

/** What the page says instead of writing an SFT file of no lines. */
export const NO_SFT_TRACES = 'No trace passed the ASP filter: nothing to export';

/** The run's SFT file, or null when no trace passed the filter (an empty file helps nobody). */
export function sftFile(results: readonly QuestionResult[], options: FilterOptions = DEFAULT_FILTER): string | null {
  const { kept } = filterTraces(results, options);
  return kept.length ? sftJsonl(kept) : null;
}
