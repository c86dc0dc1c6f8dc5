/**
 * Moving established flows after a path change (a transit edit, a processor gone). An L4
 * fabric cannot re-route a TCP connection mid-stream, so the client agent closes it — with a
 * FIN, as a server closing an idle keep-alive connection does — at a moment when that loses
 * nothing, and the client's next request opens a flow on the new path.
 */

/** An established client flow, as much as moving it needs. */
export interface ActiveFlow {
  server: string;
  /** The processors it crosses, e.g. `aws-p1>gcp-p1`. */
  path: string;
  /** When the workload last sent bytes (towards the server). */
  lastUp: number;
  /** When the server's side last sent bytes (towards the workload). */
  lastDown: number;
  /** Set when the current bundle gives its server another path. */
  moving: boolean;
}

/** Quiet this long after an answer, a keep-alive connection is between two requests. */
export const MOVE_IDLE_MS = 250;

/**
 * Whether a moving flow may be closed now. Only after the server side spoke last — a request
 * still waiting for its answer (however slow) is never cut — and nothing moved either way for
 * MOVE_IDLE_MS. A connection that is never quiet keeps its path until it ends.
 */
export function readyToMove(f: ActiveFlow, now: number): boolean {
  return f.moving && f.lastDown >= f.lastUp && now - f.lastDown >= MOVE_IDLE_MS;
}

export function pathKey(path: { name: string }[] | undefined): string {
  return path?.map((h) => h.name).join('>') ?? '';
}
