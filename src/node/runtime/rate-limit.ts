import type { Logger } from 'pino';
import { ApiError } from '../../api-client/client.js';

/** Without a usable Retry-After a 429 is waited out this long; a huge one is capped. */
const DEFAULT_WAIT_MS = 5_000;
const MAX_WAIT_MS = 15 * 60_000;

/** How long a 429 asks to wait, or undefined for any other outcome (those keep their own meaning). */
export function rateLimitWaitMs(err: unknown): number | undefined {
  if (!(err instanceof ApiError) || err.status !== 429) return undefined;
  const asked = err.retryAfterSec === undefined ? DEFAULT_WAIT_MS : err.retryAfterSec * 1000;
  return Math.min(MAX_WAIT_MS, Math.max(1_000, asked));
}

/**
 * Runs `fn`, waiting out every 429 (Retry-After) and trying again: a node whose login is
 * rate-limited — someone guessing its owner's password from its own address — must wait, not
 * exit, or a few bad logins a minute would keep it off the fabric. Any other error is the
 * caller's to judge. The timer is not unref'd: while a node waits, it is all that runs.
 */
export async function waitingOutRateLimits<T>(
  fn: () => Promise<T>,
  o: { log: Logger; what: string; stopped: () => boolean },
): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const wait = rateLimitWaitMs(err);
      if (wait === undefined || o.stopped()) throw err;
      o.log.warn(
        { err: (err as Error).message, retryInMs: wait },
        `${o.what} rate-limited; waiting ${Math.ceil(wait / 1000)} s before trying again`,
      );
      await new Promise((r) => setTimeout(r, wait));
      if (o.stopped()) throw err;
    }
  }
}
