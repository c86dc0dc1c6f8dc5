/**
 * A FIFO mutex. Writes go through it so that the check-then-write sequences of the API
 * (name taken? processor known?) behave identically on single-connection PGlite and on a
 * Postgres pool, and so the policy epoch increases without gaps or races.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    // Keep the chain alive whatever fn does; callers see their own rejection.
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
