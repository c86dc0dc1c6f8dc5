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

const queued = new Map<ServerResponse, string>();
let timer: NodeJS.Timeout | undefined;

function flushAll(): void {
  timer = undefined;
  for (const [res, frames] of queued) if (!res.destroyed) res.write(frames);
  queued.clear();
}

/** Queues a frame for `res`, written with the others queued within FLUSH_MS. */
export function queueFrame(res: ServerResponse, frame: string): void {
  queued.set(res, (queued.get(res) ?? '') + frame);
  if (!timer) {
    timer = setTimeout(flushAll, FLUSH_MS);
    timer.unref();
  }
}

/** Writes `frame` now, after whatever is queued for `res` (one write). */
export function writeFrame(res: ServerResponse, frame: string): void {
  const before = queued.get(res);
  if (before === undefined) {
    res.write(frame);
    return;
  }
  queued.delete(res);
  res.write(before + frame);
}

/** Bytes queued for `res` and not yet written: part of its backlog. */
export function queuedBytes(res: ServerResponse): number {
  return queued.get(res)?.length ?? 0;
}

/** The stream closed: what was queued for it is dropped. */
export function forgetStream(res: ServerResponse): void {
  queued.delete(res);
}
