import type { Logger } from 'pino';
import { emptyTally, sameTally, type Tally } from './tally.js';

/**
 * Notices when the tally in result-db changes, so result-svc can push it to browsers.
 *
 * Why result-svc reads on a timer rather than LISTEN/NOTIFY: the embedded result-db is one
 * PGlite backend shared by all clients through pglite-socket, so a notification would reach
 * whichever client happens to be talking to it — the worker, not result-svc. One cheap
 * aggregate query per interval, per result-svc instance, and only while somebody watches,
 * is the portable choice; browsers themselves never poll — they are pushed each change.
 */
export class TallyWatcher {
  #last: Tally = emptyTally();
  #version = 0;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(
    private readonly o: {
      read: () => Promise<Tally>;
      onChange: (t: Tally, version: number) => void;
      intervalMs: number;
      log: Logger;
    },
  ) {}

  get last(): { tally: Tally; version: number } {
    return { tally: this.#last, version: this.#version };
  }

  /** Records a tally read elsewhere (a snapshot), publishing it if it is news. */
  observe(t: Tally): void {
    if (sameTally(t, this.#last)) return;
    this.#last = t;
    this.#version += 1;
    this.o.onChange(t, this.#version);
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.tick(), this.o.intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async tick(): Promise<void> {
    if (this.#busy) return; // a slow read must not pile up behind itself
    this.#busy = true;
    try {
      this.observe(await this.o.read());
    } catch (err) {
      this.o.log.debug({ err: (err as Error).message }, 'tally read failed; will retry');
    } finally {
      this.#busy = false;
    }
  }
}
