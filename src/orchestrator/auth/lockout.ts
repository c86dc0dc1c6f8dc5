/**
 * Failed-login counting. Failures are counted per (account, client address) and per client
 * address, never per account alone: a stranger guessing `admin` from one address must not
 * lock the real admin out from another (the lockout would itself be the attack). Each
 * counter lets a few failures through, then refuses for a delay that doubles with every
 * further failure, up to a cap. In memory on purpose: a restart clearing it costs an attacker
 * a restart, and a table would be a write per failure.
 */

export interface DelayPolicy {
  /** Failures that cost nothing (typos); the one that reaches this count starts the first delay. */
  failuresBeforeDelay: number;
  /** The first delay; each further failure doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A counter quiet this long since its last failure is forgotten. */
  forgetMs: number;
}

export interface LockoutOptions {
  /** One account guessed from one address. */
  perAccount: DelayPolicy;
  /** One address guessing many accounts (each account from it has its own, tighter count). */
  perAddress: DelayPolicy;
  /** Bound on each table, against a stream of made-up names and addresses. */
  maxEntries: number;
  now: () => number;
}

export const DEFAULT_LOCKOUT: LockoutOptions = {
  // A day: waiting for the count to be forgotten must not beat the capped delay (one try per
  // 15 min); the owner is not held by it, since a right password clears the count.
  perAccount: {
    failuresBeforeDelay: 5,
    baseDelayMs: 15_000,
    maxDelayMs: 15 * 60_000,
    forgetMs: 24 * 3600_000,
  },
  // An hour: a success never clears an address's count, so a shared (NAT) address's typos
  // must fade on their own.
  perAddress: { failuresBeforeDelay: 20, baseDelayMs: 15_000, maxDelayMs: 15 * 60_000, forgetMs: 3600_000 },
  maxEntries: 50_000,
  now: Date.now,
};

/** How long a counter with `failures` failures refuses, counted from its last failure. */
export function delayAfter(failures: number, p: DelayPolicy): number {
  const over = failures - p.failuresBeforeDelay;
  if (over < 0) return 0;
  return Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.min(over, 30));
}

interface Counter {
  failures: number;
  last: number;
}

/** A bounded table of counters; the oldest-touched ones go first when it is full. */
class CounterTable {
  readonly #m = new Map<string, Counter>();

  constructor(
    private readonly policy: DelayPolicy,
    private readonly o: LockoutOptions,
  ) {}

  get size(): number {
    return this.#m.size;
  }

  #live(key: string): Counter | undefined {
    const c = this.#m.get(key);
    if (c && this.o.now() - c.last > this.policy.forgetMs) {
      this.#m.delete(key);
      return undefined;
    }
    return c;
  }

  retryAfterMs(key: string): number {
    const c = this.#live(key);
    if (!c) return 0;
    return Math.max(0, c.last + delayAfter(c.failures, this.policy) - this.o.now());
  }

  fail(key: string): void {
    const c = this.#live(key) ?? { failures: 0, last: 0 };
    c.failures += 1;
    c.last = this.o.now();
    // Re-inserted so that Map order is least recently failed first, for eviction.
    this.#m.delete(key);
    if (this.#m.size >= this.o.maxEntries) this.#makeRoom();
    this.#m.set(key, c);
  }

  forget(key: string): void {
    this.#m.delete(key);
  }

  /**
   * Drops forgotten counters; if none are, the least recently failed 1% — an attacker able to
   * fill the table from that many addresses gains little by flushing the oldest counters.
   */
  #makeRoom(): void {
    const cutoff = this.o.now() - this.policy.forgetMs;
    for (const [k, c] of this.#m) if (c.last < cutoff) this.#m.delete(k);
    if (this.#m.size < this.o.maxEntries) return;
    let drop = Math.max(1, Math.floor(this.o.maxEntries / 100));
    for (const k of this.#m.keys()) {
      if (drop-- <= 0) break;
      this.#m.delete(k);
    }
  }
}

/** Why a login is refused for now: which counter, and for how long. */
export interface Refusal {
  retryAfterMs: number;
  by: 'account' | 'address';
}

export class Lockout {
  readonly options: LockoutOptions;
  readonly #pairs: CounterTable;
  readonly #addresses: CounterTable;

  constructor(opts: Partial<LockoutOptions> = {}) {
    this.options = { ...DEFAULT_LOCKOUT, ...opts };
    this.#pairs = new CounterTable(this.options.perAccount, this.options);
    this.#addresses = new CounterTable(this.options.perAddress, this.options);
  }

  /** Whether a login of `account` from `address` must wait, and how long; undefined when it may go on. */
  check(account: string, address: string): Refusal | undefined {
    const pair = this.#pairs.retryAfterMs(pairKey(account, address));
    const addr = this.#addresses.retryAfterMs(address);
    if (pair === 0 && addr === 0) return undefined;
    return pair >= addr ? { retryAfterMs: pair, by: 'account' } : { retryAfterMs: addr, by: 'address' };
  }

  fail(account: string, address: string): void {
    this.#pairs.fail(pairKey(account, address));
    this.#addresses.fail(address);
  }

  /**
   * A right password clears the account's count from that address only. The address's own
   * count stays: otherwise an attacker holding one valid account could reset it between guesses.
   */
  succeed(account: string, address: string): void {
    this.#pairs.forget(pairKey(account, address));
  }

  /** Entries held, for tests of the memory bound. */
  get size(): { pairs: number; addresses: number } {
    return { pairs: this.#pairs.size, addresses: this.#addresses.size };
  }
}

const pairKey = (account: string, address: string) => `${account}\0${address}`;
