/**
 * The deadlines that turn a hung peer (one that accepts TCP but never answers: SIGSTOP, a
 * wedged event loop) into a fast failover instead of a stall. Pure numbers and arithmetic;
 * the pool (pool.ts) and the hops (agent outbound, processor) apply them.
 */

/** Every pooled session is pinged this often (HTTP/2 PING, answered by the peer's HTTP/2 stack). */
export const PING_INTERVAL_MS = 500;
/** A PING unanswered this long ejects the session: it is destroyed and its peer skipped. */
export const PING_DEADLINE_MS = 1_000;
/** A new session whose TLS handshake has not finished by then is ejected the same way. */
export const CONNECT_DEADLINE_MS = 1_000;
/** How often an ejected peer is probed (a fresh connection and a PING) until it answers. */
export const PROBE_INTERVAL_MS = 500;

/** How often a flow's watchdog looks at its next hop's PING while it waits for the answer. */
export const FIRST_BYTE_POLL_MS = 50;
/**
 * A next hop whose PING has waited this long (one is sent with the CONNECT) is hung: the flow
 * fails over at once. Long enough that a live peer on a loaded host answers in time, short
 * enough that a hung first hop costs well under a second.
 */
export const HUNG_AFTER_MS = 400;
/** With a live next hop, how long a flow still waits for an answer held up further on. */
const FIRST_BYTE_CAP_BASE_MS = 1_000;
const FIRST_BYTE_CAP_PER_HOP_MS = 500;

/**
 * The longest a hop waits for the CONNECT answer of a next hop that is alive (it answers
 * PINGs), given how many nodes lie beyond that next hop (0 when it is the server agent). Each
 * later hop runs its own watchdog and answers a hung node with a 504 naming it well before
 * this; the cap only ends flows whose answer is slow for another reason (a workload slow to
 * accept), and grows towards the client so the nearest hop gives up first.
 */
export function firstByteCapMs(nodesBeyondNext: number): number {
  return FIRST_BYTE_CAP_BASE_MS + FIRST_BYTE_CAP_PER_HOP_MS * Math.max(0, nodesBeyondNext);
}

/** Why a peer was skipped: the label of trellis_peer_ejections_total and trellis_failovers_total. */
export type EjectReason = 'ping-timeout' | 'connect-timeout';
export type FailoverReason = 'first-byte-timeout' | 'unreachable' | 'refused' | 'ejected';

/** What the pool tells its owner (metrics, log, health events). */
export interface HealthListener {
  ejected?(peer: string, endpoint: string, reason: EjectReason): void;
  restored?(peer: string, endpoint: string): void;
}

/**
 * Whether a timer that was due at `due` and ran at `now` can be trusted to judge a peer: when
 * our own event loop stalled, the peer's answer may be sitting unread in our socket.
 */
export function judgeable(due: number, now: number, tolerance = PING_INTERVAL_MS): boolean {
  return now - due <= tolerance;
}
