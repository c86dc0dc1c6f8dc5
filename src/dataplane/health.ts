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

/** First-byte deadline of a hop with no hop after the next one (a last processor to the server agent). */
const FIRST_BYTE_BASE_MS = 300;
/** Added per node beyond the next: a hop nearer a hung peer must give up first, and say who. */
const FIRST_BYTE_PER_HOP_MS = 150;

/**
 * How long a hop waits for the CONNECT answer of its next hop, given how many nodes lie
 * beyond that next hop (0 when the next hop is the server agent). The answer comes back only
 * once every later hop has answered, so the deadlines grow towards the client: the hop in
 * front of a hung node times out first and names it (`trellis-unreachable`), and the client
 * agent, last to give up, then knows whom to skip.
 */
export function firstByteDeadlineMs(nodesBeyondNext: number): number {
  return FIRST_BYTE_BASE_MS + FIRST_BYTE_PER_HOP_MS * Math.max(0, nodesBeyondNext);
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
