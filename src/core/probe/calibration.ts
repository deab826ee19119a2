/**
 * How good the confidence probe is, and what adaptive search would cost and earn with it:
 * - a confidence histogram split by whether the self-answer was right (the paper's figure 3),
 * - a reliability diagram and its expected calibration error (ECE),
 * - the paper's table 2: self-answer the top-P% most confident questions, search the rest, and see F1,
 *   searches per question, and how accurate each part is.
 */
import { mean } from '../eval/stats.ts';

/** One calibration question: the probe's confidence, and how the model did both ways. */
export interface CalibrationRow {
  confidence: number;
  /** String-F1 of the self-answer (no search). */
  selfF1: number;
  /** String-F1 of the always-search run. */
  searchF1: number;
  /** Searches the always-search run made. */
  searches: number;
  selfEm?: number;
  searchEm?: number;
}

export const DEFAULT_BINS = 10;

/** Which of `bins` equal-width bins over [0, 1] a confidence falls in (1.0 joins the last bin). */
export function binOf(confidence: number, bins = DEFAULT_BINS): number {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(confidence) ? confidence : 0));
  return Math.min(bins - 1, Math.floor(clamped * bins));
}

const edges = (bin: number, bins: number) => ({ from: bin / bins, to: (bin + 1) / bins });

export interface HistogramBin {
  from: number;
  to: number;
  /** Questions whose self-answer was right (F1 ≥ the label threshold) / wrong. */
  right: number;
  wrong: number;
}

export function confidenceHistogram(rows: readonly CalibrationRow[], labelThreshold: number, bins = DEFAULT_BINS): HistogramBin[] {
  const histogram = Array.from({ length: bins }, (_, b) => ({ ...edges(b, bins), right: 0, wrong: 0 }));
  for (const row of rows) {
    const bin = histogram[binOf(row.confidence, bins)] as HistogramBin;
    if (row.selfF1 >= labelThreshold) bin.right++;
    else bin.wrong++;
  }
  return histogram;
}

export interface ReliabilityBin {
  from: number;
  to: number;
  count: number;
  /** Mean confidence and share of right self-answers in the bin; NaN for an empty bin. */
  meanConfidence: number;
  accuracy: number;
}

export interface Reliability {
  bins: ReliabilityBin[];
  /** Σ (bin share) · |accuracy − mean confidence|: 0 is perfectly calibrated; NaN with no rows. */
  ece: number;
}

export function reliability(rows: readonly CalibrationRow[], labelThreshold: number, bins = DEFAULT_BINS): Reliability {
  const members: CalibrationRow[][] = Array.from({ length: bins }, () => []);
  for (const row of rows) members[binOf(row.confidence, bins)]?.push(row);
  const reliabilityBins = members.map((inBin, b) => ({
    ...edges(b, bins),
    count: inBin.length,
    meanConfidence: mean(inBin.map((r) => r.confidence)),
    accuracy: mean(inBin.map((r) => (r.selfF1 >= labelThreshold ? 1 : 0))),
  }));
  const ece = rows.length === 0 ? NaN : reliabilityBins.reduce((sum, bin) => (bin.count ? sum + (bin.count / rows.length) * Math.abs(bin.accuracy - bin.meanConfidence) : sum), 0);
  return { bins: reliabilityBins, ece };
}

export interface PolicyOutcome {
  /** "always search", "top 5%", "confidence ≥ 0.70". */
  label: string;
  selfAnswered: number;
  questions: number;
  /** Means over all questions; EM only when every row has it. */
  f1: number;
  em?: number;
  searchesPerQuestion: number;
  /** Mean F1 of the self-answered part and of the searched part; NaN for an empty part. */
  selfAnsweredF1: number;
  searchedF1: number;
}

/** Scores a split: `selfAnswer[i]` says whether question i is answered from memory (no search). */
export function outcomeOf(label: string, rows: readonly CalibrationRow[], selfAnswer: readonly boolean[]): PolicyOutcome {
  const self = rows.filter((_, i) => selfAnswer[i]);
  const searched = rows.filter((_, i) => !selfAnswer[i]);
  const hasEm = rows.every((r) => r.selfEm !== undefined && r.searchEm !== undefined);
  const pick = (r: CalibrationRow, i: number, own: (r: CalibrationRow) => number, other: (r: CalibrationRow) => number) => (selfAnswer[i] ? own(r) : other(r));
  return {
    label,
    selfAnswered: self.length,
    questions: rows.length,
    f1: mean(rows.map((r, i) => pick(r, i, (x) => x.selfF1, (x) => x.searchF1))),
    ...(hasEm && { em: mean(rows.map((r, i) => pick(r, i, (x) => x.selfEm ?? 0, (x) => x.searchEm ?? 0))) }),
    searchesPerQuestion: mean(rows.map((r, i) => (selfAnswer[i] ? 0 : r.searches))),
    selfAnsweredF1: mean(self.map((r) => r.selfF1)),
    searchedF1: mean(searched.map((r) => r.searchF1)),
  };
}

export const PAPER_PERCENTS = [1, 5, 10, 20] as const;

/**
 * The top P% most confident questions (rounded down, so never more than P%; ties go to the earlier
 * question) are self-answered.
 */
export function topPercent(rows: readonly CalibrationRow[], percent: number): boolean[] {
  const count = Math.floor((percent / 100) * rows.length + 1e-9);
  const order = rows.map((r, i) => ({ c: Number.isFinite(r.confidence) ? r.confidence : -Infinity, i })).sort((a, b) => b.c - a.c || a.i - b.i);
  const chosen = new Set(order.slice(0, count).map((o) => o.i));
  return rows.map((_, i) => chosen.has(i));
}

/** What adaptive mode does with a threshold: self-answer at or above it (as `adaptive()` decides). */
export function atThreshold(rows: readonly CalibrationRow[], threshold: number): boolean[] {
  return rows.map((r) => (Number.isFinite(r.confidence) ? Math.min(1, Math.max(0, r.confidence)) : 0) >= threshold);
}

/** The paper's table 2 on this calibration set, with always-search first and the user's threshold last. */
export function thresholdTable(rows: readonly CalibrationRow[], threshold: number, percents: readonly number[] = PAPER_PERCENTS): PolicyOutcome[] {
  return [
    outcomeOf('always search', rows, rows.map(() => false)),
    ...percents.map((p) => outcomeOf(`top ${p}%`, rows, topPercent(rows, p))),
    outcomeOf(`confidence ≥ ${threshold.toFixed(2)}`, rows, atThreshold(rows, threshold)),
  ];
}
