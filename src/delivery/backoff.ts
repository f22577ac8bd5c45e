/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * the n-th retry (n from 0) waits a uniform random time in [0, min(max, initial * 2^n)).
 * Full jitter spreads the retries of many routers restarting together.
 *
 * When the receiver said how long to wait (Retry-After), that wait is used instead, capped by
 * `maxMs` so a bogus header cannot park the sink for hours.
 */
export function backoffDelay(
  attempt: number,
  initialMs: number,
  maxMs: number,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== null) return Math.min(Math.max(0, retryAfterMs), maxMs);
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 52));
  return Math.floor(random() * ceiling);
}
