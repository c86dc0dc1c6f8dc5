import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Remembers, for a few minutes, that a user's password was verified — as an HMAC under a
 * per-process key, never the password. A fleet of agents of one host owner logging in
 * together then costs one scrypt, not one each (1,000 agents × 90 ms would take a minute on
 * two cores). A wrong password never matches and still pays the full scrypt, so online
 * guessing gets no faster; the cache lives in memory only and dies with the process.
 */
export class VerifiedCache {
  readonly #key = randomBytes(32);
  readonly #entries = new Map<string, { mac: Buffer; hash: string; until: number }>();

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  #mac(user: string, password: string): Buffer {
    return createHmac('sha256', this.#key).update(user).update('\0').update(password).digest();
  }

  /** True only for the same user, password and stored hash (a reset invalidates it). */
  matches(user: string, password: string, storedHash: string): boolean {
    const e = this.#entries.get(user);
    if (!e || e.until < this.now() || e.hash !== storedHash) return false;
    return timingSafeEqual(e.mac, this.#mac(user, password));
  }

  remember(user: string, password: string, storedHash: string): void {
    if (this.#entries.size > 100_000) this.#entries.clear();
    this.#entries.set(user, {
      mac: this.#mac(user, password),
      hash: storedHash,
      until: this.now() + this.ttlMs,
    });
  }
}
