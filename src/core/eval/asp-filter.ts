/**
 * The paper's data recipe for always-search fine-tuning: keep a trace only if it is right (String-F1 at
 * least 0.65), grounded (it searched before it answered) and free of parametric-knowledge phrases
 * ("I remember", …), then export the kept ones as chat-format JSONL for supervised fine-tuning.
 */
import type { QuestionResult } from './benchmark.ts';

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
    if (!result.grounded) reasons.push('no search before the answer');
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

/** One line per kept trace: `{"messages": [...]}`, the conversation exactly as the model saw it. */
export function sftJsonl(kept: readonly QuestionResult[]): string {
  return kept.map((r) => JSON.stringify({ id: r.id, messages: r.transcript })).join('\n') + (kept.length ? '\n' : '');
}

/** What the page says instead of writing an SFT file of no lines. */
export const NO_SFT_TRACES = 'No trace passed the ASP filter: nothing to export';

/** The run's SFT file, or null when no trace passed the filter (an empty file helps nobody). */
export function sftFile(results: readonly QuestionResult[], options: FilterOptions = DEFAULT_FILTER): string | null {
  const { kept } = filterTraces(results, options);
  return kept.length ? sftJsonl(kept) : null;
}
