import type { ServerResponse } from 'node:http';

/**
 * How long a stream's node events may wait to share one write. During a rollout every
 * registration is a node event to each of its peers' streams (1,000 agents of 10 host owners:
 * ~100,000 frames), and one socket write per frame was 9 % of the orchestrator's main thread
 * (`writev`, docs/benchmarks.md); batched, a stream gets one write per FLUSH_MS at most. Agents
 * wait ~1 s after a node event before refetching anyway (src/agent), so 100 ms changes nothing
 * they do; every other event (policy, ticket keys, hello) is written at once, after what is
 * queued, so a stream's order never changes.
 */
export const FLUSH_MS = 100;

/** The event streams' queued frames: one per orchestrator (its event route), closed with it. */
export class FrameBatcher {
  readonly #queued = new Map<ServerResponse, string>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** Queues a frame for `res`, written with the others queued within FLUSH_MS. */
  queue(res: ServerResponse, frame: string): void {
    if (this.#closed) return;
    this.#queued.set(res, (this.#queued.get(res) ?? '') + frame);
    if (!this.#timer) {
      this.#timer = setTimeout(() => this.#flushAll(), FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** Writes `frame` now, after whatever is queued for `res` (one write). */
  write(res: ServerResponse, frame: string): void {
    const before = this.#queued.get(res);
    if (before === undefined) {
      res.write(frame);
      return;
    }
    this.#queued.delete(res);
    res.write(before + frame);
  }

  /** Bytes queued for `res` and not yet written: part of its backlog. */
  queuedBytes(res: ServerResponse): number {
    return this.#queued.get(res)?.length ?? 0;
  }

  /** The stream closed: what was queued for it is dropped. */
  forget(res: ServerResponse): void {
    this.#queued.delete(res);
  }

  /** The orchestrator is closing: nothing queued is written after this, and nothing more is queued. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queued.clear();
  }

  #flushAll(): void {
    this.#timer = undefined;
    for (const [res, frames] of this.#queued) if (!res.destroyed) res.write(frames);
    this.#queued.clear();
  }
}
