import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../api-client/client.js';
import { rateLimitWaitMs, waitingOutRateLimits } from './rate-limit.js';

const limited = (secs?: number) =>
  new ApiError(429, { code: 'TRELLIS_ERR_LOCKED_OUT', message: 'retry in N s' }, secs);

describe('waiting out rate limits', () => {
  it('waits what Retry-After says (1 s to 15 min), and only for a 429', () => {
    expect(rateLimitWaitMs(limited(15))).toBe(15_000);
    expect(rateLimitWaitMs(limited(0))).toBe(1_000);
    expect(rateLimitWaitMs(limited(86_400))).toBe(900_000);
    expect(rateLimitWaitMs(limited())).toBe(5_000);
    expect(rateLimitWaitMs(new ApiError(401, { code: 'TRELLIS_ERR_BAD_CREDENTIALS', message: 'x' }))).toBe(
      undefined,
    );
    expect(rateLimitWaitMs(new Error('boom'))).toBe(undefined);
  });

  it('tries again after a 429 and gives any other refusal back at once', async () => {
    const log = pino({ level: 'silent' });
    let calls = 0;
    const v = await waitingOutRateLimits(
      async () => {
        calls += 1;
        if (calls === 1) throw limited(1);
        return 'logged in';
      },
      { log, what: 'login', stopped: () => false },
    );
    expect([v, calls]).toEqual(['logged in', 2]);
    const wrong = new ApiError(401, { code: 'TRELLIS_ERR_BAD_CREDENTIALS', message: 'wrong' });
    await expect(
      waitingOutRateLimits(() => Promise.reject(wrong), { log, what: 'login', stopped: () => false }),
    ).rejects.toBe(wrong);
    // A stopping node does not wait.
    const l = limited(60);
    await expect(
      waitingOutRateLimits(() => Promise.reject(l), { log, what: 'login', stopped: () => true }),
    ).rejects.toBe(l);
  });
});
