/**
 * Counts failed logins per user in a sliding window; after `maxFailures` in `windowMs` the
 * user is locked until the oldest failure leaves the window. In memory on purpose: a restart
 * clearing it costs an attacker a restart, and a lockout table would be a write per failure.
 */
export class Lockout {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the user may try again, or 0 when not locked. */
  retryAfterMs(user: string): number {
    const recent = this.#recent(user);
    if (recent.length < this.maxFailures) return 0;
    const oldest = recent[recent.length - this.maxFailures]!;
    return Math.max(0, oldest + this.windowMs - this.now());
  }

  fail(user: string): void {
    const recent = this.#recent(user);
    recent.push(this.now());
    this.#failures.set(user, recent);
    // Bound memory against a stream of made-up names.
    if (this.#failures.size > 100_000) this.#sweep();
  }

  succeed(user: string): void {
    this.#failures.delete(user);
  }

  #recent(user: string): number[] {
    const cutoff = this.now() - this.windowMs;
    return (this.#failures.get(user) ?? []).filter((t) => t > cutoff);
  }

  #sweep(): void {
    for (const user of [...this.#failures.keys()]) {
      if (this.#recent(user).length === 0) this.#failures.delete(user);
    }
  }
}
