import { describe, expect, it } from 'vitest';
import { delayAfter, Lockout } from './lockout.js';

function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

describe('login lockout', () => {
  it('refuses an account from the guessing address after 5 failures, not from another address', () => {
    const c = clock();
    const l = new Lockout({ now: c.now });
    for (let i = 0; i < 5; i++) {
      expect(l.check('admin:admin', '127.0.61.9')).toBeUndefined();
      l.fail('admin:admin', '127.0.61.9');
    }
    expect(l.check('admin:admin', '127.0.61.9')).toEqual({ retryAfterMs: 15_000, by: 'account' });
    expect(l.check('admin:admin', '127.0.61.10')).toBeUndefined();
    c.t += 15_000;
    expect(l.check('admin:admin', '127.0.61.9')).toBeUndefined();
  });

  it('doubles the wait with every further failure, up to 15 minutes', () => {
    const p = { failuresBeforeDelay: 5, baseDelayMs: 15_000, maxDelayMs: 900_000, forgetMs: 1 };
    expect([4, 5, 6, 7, 8].map((n) => delayAfter(n, p))).toEqual([0, 15_000, 30_000, 60_000, 120_000]);
    expect(delayAfter(10, p)).toBe(480_000);
    expect(delayAfter(11, p)).toBe(900_000);
    expect(delayAfter(10_000, p)).toBe(900_000);
    const c = clock();
    const l = new Lockout({ now: c.now });
    for (let i = 0; i < 6; i++) l.fail('a', 'x');
    expect(l.check('a', 'x')?.retryAfterMs).toBe(30_000);
  });

  it('a right password clears that address’s count for the account, not the address’s own count', () => {
    const c = clock();
    const l = new Lockout({ now: c.now });
    for (let i = 0; i < 4; i++) l.fail('admin:admin', '10.0.0.1');
    l.succeed('admin:admin', '10.0.0.1');
    for (let i = 0; i < 4; i++) l.fail('admin:admin', '10.0.0.1');
    expect(l.check('admin:admin', '10.0.0.1')).toBeUndefined();
    // One address guessing many accounts: each below its own limit, the address is stopped.
    const m = new Lockout({ now: c.now });
    for (let i = 0; i < 20; i++) {
      expect(m.check(`unknown:user-${i}`, '10.0.0.2')).toBeUndefined();
      m.fail(`unknown:user-${i}`, '10.0.0.2');
    }
    m.succeed('unknown:user-19', '10.0.0.2');
    expect(m.check('admin:admin', '10.0.0.2')).toEqual({ retryAfterMs: 15_000, by: 'address' });
    expect(m.check('admin:admin', '10.0.0.3')).toBeUndefined();
    c.t += 3_600_001;
    expect(m.check('admin:admin', '10.0.0.2')).toBeUndefined();
  });

  it('forgets an account’s count a day after its last failure, an address’s after an hour', () => {
    const c = clock();
    const l = new Lockout({ now: c.now });
    for (let i = 0; i < 9; i++) l.fail('a', 'x');
    expect(l.check('a', 'x')?.retryAfterMs).toBe(240_000);
    c.t += 3_600_001;
    // Waiting an hour does not start the guesser afresh: the capped delay stays the better rate.
    expect(l.check('a', 'x')).toBeUndefined();
    l.fail('a', 'x');
    expect(l.check('a', 'x')?.retryAfterMs).toBe(480_000);
    c.t += 24 * 3_600_000 + 1;
    expect(l.check('a', 'x')).toBeUndefined();
    // Counted from zero again: the next failure is the first.
    l.fail('a', 'x');
    expect(l.check('a', 'x')).toBeUndefined();
  });

  it('keeps its tables bounded against a stream of made-up names and addresses', () => {
    const c = clock();
    const l = new Lockout({ now: c.now, maxEntries: 1000 });
    for (let i = 0; i < 10_000; i++) {
      l.fail(`unknown:name-${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      c.t += 1;
    }
    expect(l.size.pairs).toBeLessThanOrEqual(1000);
    expect(l.size.addresses).toBeLessThanOrEqual(1000);
    // The newest counters survive the eviction: a guesser is still held.
    for (let i = 0; i < 5; i++) l.fail('admin:admin', '10.9.9.9');
    expect(l.check('admin:admin', '10.9.9.9')?.by).toBe('account');
  });
});
