/**
 * Serialises password checks so failures are counted before the next guess is weighed. The
 * check is slow (scrypt, ~50 ms): without this, a hundred guesses sent at once would all pass
 * the lockout before the first failure was recorded. Per (account, address) one check runs
 * at a time — parallel logins of one account from one host then cost one scrypt, the rest
 * hit the verified-password cache; per address a few run at once, so guessing many accounts
 * in parallel overshoots the address's limit by at most that many.
 */
export class LoginGate {
  readonly #slots = new Map<string, { busy: number; waiting: (() => void)[] }>();

  constructor(readonly perAddress = 8) {}

  async run<T>(account: string, address: string, fn: () => Promise<T>): Promise<T> {
    // Pair first, then address: a request queued behind its own account holds no address
    // slot (or a burst of one account would starve the others), and an address slot is only
    // ever held by a check that is running, so there is no cycle.
    const releasePair = await this.#acquire(`p\0${account}\0${address}`, 1);
    try {
      const releaseAddress = await this.#acquire(`a\0${address}`, this.perAddress);
      try {
        return await fn();
      } finally {
        releaseAddress();
      }
    } finally {
      releasePair();
    }
  }

  async #acquire(key: string, limit: number): Promise<() => void> {
    let s = this.#slots.get(key);
    if (!s) {
      s = { busy: 0, waiting: [] };
      this.#slots.set(key, s);
    }
    if (s.busy >= limit) await new Promise<void>((r) => s.waiting.push(r));
    else s.busy += 1;
    const slot = s;
    return () => {
      const next = slot.waiting.shift();
      if (next)
        next(); // the slot passes to the next waiter, busy unchanged
      else if (--slot.busy === 0) this.#slots.delete(key);
    };
  }

  /** Keys with a check running or waiting (bounded by the requests in flight). */
  get size(): number {
    return this.#slots.size;
  }
}
