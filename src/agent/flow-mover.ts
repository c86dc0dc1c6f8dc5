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
  /** When bytes last moved, either way. */
  lastActive: number;
  /**
   * Who sent the last bytes: `up` the workload (a request, waiting for its answer), `down` the
   * server's side, null nothing yet. A direction, not two timestamps: a request arriving in the
   * same millisecond as the flow was set up must still count as the last word.
   */
  lastSent: 'up' | 'down' | null;
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
  return f.moving && f.lastSent !== 'up' && now - f.lastActive >= MOVE_IDLE_MS;
}

export function pathKey(path: { name: string }[] | undefined): string {
  return path?.map((h) => h.name).join('>') ?? '';
}
