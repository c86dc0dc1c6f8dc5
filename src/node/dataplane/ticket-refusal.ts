import type { DenyCode } from '../../deny-codes.js';
import type { TicketVerdict, TicketVerdictCode } from '../../wire/ticket.js';

/** The one mapping from why a ticket failed to verify to the refusal code a hop answers with. */
const CODE: Record<TicketVerdictCode, DenyCode> = {
  truncated: 'TRELLIS_DENY_MALFORMED_TICKET',
  'bad-version': 'TRELLIS_DENY_MALFORMED_TICKET',
  'bad-field': 'TRELLIS_DENY_MALFORMED_TICKET',
  'trailing-bytes': 'TRELLIS_DENY_MALFORMED_TICKET',
  'bad-address': 'TRELLIS_DENY_MALFORMED_TICKET',
  'bad-encoding': 'TRELLIS_DENY_MALFORMED_TICKET',
  internal: 'TRELLIS_DENY_MALFORMED_TICKET',
  // The hop's own verification key is not Ed25519: no signature can verify against it.
  'bad-key': 'TRELLIS_DENY_BAD_SIGNATURE',
  'bad-signature': 'TRELLIS_DENY_BAD_SIGNATURE',
  'unknown-key': 'TRELLIS_DENY_UNKNOWN_KEY',
  expired: 'TRELLIS_DENY_EXPIRED',
  future: 'TRELLIS_DENY_FUTURE_TICKET',
};

export function ticketDenyCode(code: TicketVerdictCode): DenyCode {
  return CODE[code];
}

/**
 * A ticket that did not verify, as every hop (processor or server agent) refuses it: its code,
 * the reason, and `stale` for a key this hop does not hold yet (412: the agent refreshes and
 * retries once, while the hop refetches its keys).
 */
export function ticketRefusal(v: Extract<TicketVerdict, { ok: false }>): {
  code: DenyCode;
  reason: string;
  stale: boolean;
} {
  return {
    code: ticketDenyCode(v.code),
    reason: `refused: ${v.reason}`,
    stale: v.unknownKeyId !== undefined,
  };
}
