/**
 * Reconnect delays: exponential with "full jitter" (a random delay between 0 and the capped
 * exponential step), so that many clients that lost the same server do not come back in
 * lock-step and knock it over again.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 5_000, factor: 2 };

/** The delay before retry number `attempt` (0-based); `random` is injectable for tests. */
export function backoffDelay(
  attempt: number,
  o: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const step = Math.min(o.maxMs, o.initialMs * (o.factor ?? 2) ** Math.max(0, attempt));
  // Never 0: a floor of a tenth of the first step keeps a tight loop from spinning.
  return Math.max(o.initialMs / 10, Math.floor(random() * step));
}
