/**
 * When to try an HTTP request again, and how long to wait first: exponential backoff with full jitter
 * (so a fleet of clients that failed together does not come back together), at least what the server's
 * `Retry-After` asks, and never past a bound. Our own rather than p-retry: its delay cannot come from the
 * failed response, which is what `Retry-After` needs.
 */

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** The first retry waits up to this long; each next one up to twice the one before. */
  baseDelayMs: number;
  /** No wait is longer, whatever the backoff or the server asks. */
  maxDelayMs: number;
}

/** Statuses worth another try: the server is busy, overloaded, restarting or timed out. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Milliseconds a `Retry-After` header asks for (seconds, or an HTTP date), or null without a usable one. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/** The wait before retry number `retry` (1 for the first): a random share of the backoff, at least `retryAfter`. */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfter: number | null, random = Math.random): number {
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.min(policy.maxDelayMs, Math.max(retryAfter ?? 0, random() * backoff));
}
