/** Time left in a download, from the average rate since its first progress report. */

export interface ByteSample {
  bytes: number;
  ms: number;
}

/** Seconds left, or null while there is too little to go on (no total, no time passed, no bytes moved). */
export function etaSeconds(first: ByteSample, latest: ByteSample, totalBytes: number | undefined): number | null {
  const moved = latest.bytes - first.bytes;
  const elapsed = latest.ms - first.ms;
  if (!totalBytes || moved <= 0 || elapsed < 500) return null;
  return Math.max(0, ((totalBytes - latest.bytes) / moved) * (elapsed / 1000));
}

export function formatSeconds(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.ceil(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Time left as every progress line in the app says it: "about 2 min 10 s left". */
export function timeLeft(seconds: number): string {
  return `about ${formatSeconds(seconds)} left`;
}
