import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from './backoff.js';

export interface ReconnectorOptions<T> {
  /** What is connected to, for logs and errors: `voting-backend`, `result-worker`, … */
  name: string;
  /**
   * Opens a connection. `broken` is to be called when the connection dies later (a socket
   * error or close); the reconnector then drops it and the next `get()` opens a new one.
   */
  connect: (broken: (err: Error) => void) => Promise<T>;
  close: (conn: T) => Promise<void>;
  log: Logger;
  backoff?: BackoffOptions;
}

/**
 * One connection to an upstream that is opened on demand and reopened, with backoff and
 * jitter, after it breaks. Callers never see a half-dead connection for long: an operation
 * that fails calls `invalidate`, and the next `get()` waits for a fresh one. Only one connect
 * attempt runs at a time, however many callers wait.
 */
export class Reconnector<T> {
  #conn: T | undefined;
  #connecting: Promise<T> | undefined;
  #closed = false;
  #stop = new AbortController();
  #lastError: string | undefined;

  constructor(private readonly o: ReconnectorOptions<T>) {}

  get name(): string {
    return this.o.name;
  }

  /** The open connection, if any (readiness checks). */
  get current(): T | undefined {
    return this.#conn;
  }

  /** Why the last attempt or connection failed, for /readyz. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** The connection, waiting (retrying forever) until there is one or `close()` is called. */
  get(): Promise<T> {
    if (this.#closed) return Promise.reject(new Error(`${this.o.name}: connection closed`));
    if (this.#conn !== undefined) return Promise.resolve(this.#conn);
    this.#connecting ??= this.#loop().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Like `get()`, but gives up after `ms` with an error that says what is unreachable. */
  async within(ms: number): Promise<T> {
    // Connected: the common case, on every store operation — no timer, no AbortController
    // (aborting one builds an AbortError and its stack trace: together the largest item in
    // voting-svc's CPU profile under load, bench/voting).
    if (this.#conn !== undefined && !this.#closed) return this.#conn;
    const t = new AbortController();
    try {
      return await Promise.race([
        this.get(),
        sleep(ms, undefined, { signal: t.signal }).then(() => {
          throw new Error(
            `${this.o.name} unreachable for ${ms} ms${this.#lastError ? `: ${this.#lastError}` : ''}`,
          );
        }),
      ]);
    } finally {
      t.abort();
    }
  }

  /** Drops `conn` (if it is still the current one) after an operation on it failed. */
  invalidate(conn: T, err: Error): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    this.#lastError = err.message;
    this.o.log.warn({ upstream: this.o.name, err: err.message }, 'connection lost; will reconnect');
    this.o.close(conn).catch(() => {});
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    const conn = this.#conn;
    this.#conn = undefined;
    if (conn !== undefined) await this.o.close(conn).catch(() => {});
  }

  async #loop(): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new Error(`${this.o.name}: connection closed`);
      try {
        let conn: T | undefined;
        let brokenEarly: Error | undefined;
        conn = await this.o.connect((err) => {
          if (conn === undefined) brokenEarly = err;
          else this.invalidate(conn, err);
        });
        if (brokenEarly) throw brokenEarly;
        if (this.#closed) {
          await this.o.close(conn).catch(() => {});
          throw new Error(`${this.o.name}: connection closed`);
        }
        this.#conn = conn;
        this.#lastError = undefined;
        this.o.log.info({ upstream: this.o.name, attempts: attempt + 1 }, 'connected');
        return conn;
      } catch (err) {
        if (this.#closed) throw err;
        this.#lastError = (err as Error).message;
        const delay = backoffDelay(attempt, this.o.backoff ?? DEFAULT_BACKOFF);
        // The first failures are routine (an upstream still starting); then warn.
        this.o.log[attempt < 3 ? 'debug' : 'warn'](
          { upstream: this.o.name, err: this.#lastError, attempt: attempt + 1, retryInMs: delay },
          'connect failed',
        );
        await sleep(delay, undefined, { signal: this.#stop.signal }).catch(() => {});
      }
    }
  }
}
