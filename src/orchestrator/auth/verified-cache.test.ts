import { describe, expect, it } from 'vitest';
import { VerifiedCache } from './verified-cache.js';

describe('verified-password cache', () => {
  it('matches only the same user, password and stored hash, and only until it expires', () => {
    let now = 0;
    const c = new VerifiedCache(1000, () => now);
    c.remember('voting-app/worker', 'right', 'hash1');
    expect(c.matches('voting-app/worker', 'right', 'hash1')).toBe(true);
    expect(c.matches('voting-app/worker', 'wrong', 'hash1')).toBe(false);
    expect(c.matches('voting-app/other', 'right', 'hash1')).toBe(false);
    // A password reset changes the stored hash: the old password no longer passes from cache.
    expect(c.matches('voting-app/worker', 'right', 'hash2')).toBe(false);
    now = 1001;
    expect(c.matches('voting-app/worker', 'right', 'hash1')).toBe(false);
  });
});
