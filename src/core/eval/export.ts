/**
 * Benchmark exports: results as CSV (one row a question) or JSON (with the summary), and every trace
 * as JSONL. Model output lands in these files, so CSV cells are quoted, and cells a spreadsheet would
 * run as a formula are defused.
 */
import type { BenchmarkSummary, QuestionResult } from './benchmark.ts';

const COLUMNS = ['id', 'question', 'prediction', 'answers', 'f1', 'em', 'end', 'grounded', 'searches', 'prompt_tokens', 'completion_tokens', 'wall_ms', 'retrieval_ms', 'prefill_ms', 'decode_ms'] as const;

function row(r: QuestionResult): (string | number | boolean)[] {
  const s = r.stats;
  return [r.id, r.question, r.prediction ?? '', r.answers.join(' | '), r.f1, r.em, r.end, r.grounded, s.searches, s.promptTokens, s.completionTokens, Math.round(s.wallMs), Math.round(s.retrievalMs), Math.round(s.prefillMs), Math.round(s.decodeMs)];
}

export function csvCell(value: string | number | boolean): string {
  let text = String(value);
  // OWASP's advice against CSV injection: a leading = + - @ tab or CR makes a cell a formula.
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function resultsCsv(results: readonly QuestionResult[]): string {
  return [COLUMNS.join(','), ...results.map((r) => row(r).map(csvCell).join(','))].join('\r\n') + '\r\n';
}

/** Results without their traces (those go to the JSONL), with the run's summary and settings. */
export function resultsJson(summary: BenchmarkSummary, results: readonly QuestionResult[], settings: Record<string, unknown>): string {
  const rows = results.map(({ trace: _trace, transcript: _transcript, ...rest }) => rest);
  return JSON.stringify({ settings, summary, results: rows }, null, 1);
}

export function tracesJsonl(results: readonly QuestionResult[]): string {
  return results.map((r) => JSON.stringify({ id: r.id, question: r.question, answers: r.answers, prediction: r.prediction, f1: r.f1, end: r.end, trace: r.trace })).join('\n') + (results.length ? '\n' : '');
}
