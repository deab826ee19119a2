/** How far a long load has come, as the page shows it: for a model, an index, or an embedder. */
export interface LoadProgress {
  text: string;
  /** 0..1, or undefined while the total is unknown. */
  fraction?: number;
  loadedBytes?: number;
  totalBytes?: number;
  /** Set when the loader knows the bytes come from the browser's cache, not the network. */
  fromCache?: boolean;
}

/** Progress in bytes, its fraction known once the total is (a total of 0 means unknown). */
export function bytesProgress(text: string, loadedBytes: number, totalBytes: number): LoadProgress {
  return { text, loadedBytes, totalBytes, ...(totalBytes > 0 && { fraction: Math.min(1, loadedBytes / totalBytes) }) };
}

export type ProgressReporter = (progress: LoadProgress) => void;

/**
 * Loads in a row shown as one bar (an index: its manifest, query embedder and shards). Each phase fills
 * its share of the range from `start` to 1, shares in proportion to the phases' weights (their bytes,
 * where known); a phase without a fraction sits at its start. The fraction never moves back, also
 * when a phase's own total grows as it goes (a model whose files are found one by one). The bytes of a
 * phase stay off the bar: they would not add up to its fraction.
 */
export function phasedProgress<Phase extends string>(report: ProgressReporter, weights: Record<Phase, number>, start = 0): Record<Phase, ProgressReporter> {
  const phases = Object.keys(weights) as Phase[];
  const total = phases.reduce((sum, phase) => sum + Math.max(0, weights[phase]), 0);
  let before = 0;
  let shown = start;
  const reporters = {} as Record<Phase, ProgressReporter>;
  for (const phase of phases) {
    const from = before;
    const weight = Math.max(0, weights[phase]);
    before += weight;
    reporters[phase] = ({ text, fraction, fromCache }) => {
      const within = total > 0 ? (from + weight * Math.min(1, Math.max(0, fraction ?? 0))) / total : 0;
      shown = Math.max(shown, start + (1 - start) * within);
      report({ text, fraction: shown, ...(fromCache !== undefined && { fromCache }) });
    };
  }
  return reporters;
}

/**
 * Progress over files that report their own bytes one by one (transformers.js does, per model file):
 * the sums over every file seen so far, so the fraction does not start again with each file.
 */
export function filesProgress(report: ProgressReporter): (text: string, file: string, loaded: number, total: number) => void {
  const files = new Map<string, { loaded: number; total: number }>();
  return (text, file, loaded, total) => {
    files.set(file, { loaded, total });
    let loadedBytes = 0;
    let totalBytes = 0;
    for (const bytes of files.values()) {
      loadedBytes += bytes.loaded;
      totalBytes += bytes.total;
    }
    report(bytesProgress(text, loadedBytes, totalBytes));
  };
}
