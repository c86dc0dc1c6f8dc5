/** Exponential backoff with full jitter: spreads a thousand reconnecting agents over time. */
export function backoffMs(attempt: number, baseMs = 250, maxMs = 5_000): number {
  const cap = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 10));
  return Math.floor(cap / 2 + Math.random() * (cap / 2));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
