import type { ClientHttp2Session } from 'node:http2';
import { FIRST_BYTE_POLL_MS, firstByteCapMs, HUNG_AFTER_MS, judgeable } from './health.js';
import type { SessionPool } from './pool.js';

/**
 * A flow's connect/first-byte watchdog. A CONNECT's answer comes back only once every later
 * hop has answered, so a deadline alone cannot say WHO is hung. PING can: the next hop's
 * session is pinged with the CONNECT, and until the answer comes
 *  - the PING waits HUNG_AFTER_MS unanswered: the next hop itself is hung → `hung()` (fail
 *    over now, skipping it);
 *  - the PING is answered: the next hop is alive and its own watchdog will name the hung node
 *    further on → wait, up to firstByteCapMs(nodesBeyondNext), then `slow()`.
 * Returns a cancel, called when the answer (or an error) comes first.
 */
export function watchFirstByte(o: {
  pool: SessionPool;
  session: ClientHttp2Session;
  nodesBeyondNext: number;
  hung: () => void;
  slow: () => void;
}): () => void {
  const since = Date.now();
  o.pool.pingNow(o.session);
  let due = since + FIRST_BYTE_POLL_MS;
  // Waiting is counted from here: moved on when our own process was stopped or stalled.
  let floor = since;
  let timer = setTimeout(check, FIRST_BYTE_POLL_MS);
  function check(): void {
    const now = Date.now();
    const fair = judgeable(due, now, 100);
    if (o.pool.answeredSince(o.session, since)) {
      timer = setTimeout(o.slow, Math.max(0, since + firstByteCapMs(o.nodesBeyondNext) - now));
      return;
    }
    // Judged only on a timer that ran on time: after a stall of our own event loop the PING
    // answer may be sitting unread in our socket.
    if (!fair) floor = now;
    else if (o.pool.pingWaitingMs(o.session, now, floor) >= HUNG_AFTER_MS) return o.hung();
    due = now + FIRST_BYTE_POLL_MS;
    timer = setTimeout(check, FIRST_BYTE_POLL_MS);
  }
  return () => clearTimeout(timer);
}
