import type { DenyCode } from '../deny-codes.js';
import { expectedPrevious } from '../node/dataplane/headers.js';
import { ticketRefusal } from '../node/dataplane/ticket-refusal.js';
import type { PeerIdentity } from '../node/identity/peer-identity.js';
import type { FlowTicket, TicketVerdict } from '../wire/ticket.js';

export type HopVerdict =
  | { ok: true; ticket: FlowTicket; hop: number }
  /** `stale`: older than the contract's last change; the agent should fetch a fresh ticket. */
  | { ok: false; code: DenyCode; reason: string; ticket?: FlowTicket; stale?: boolean };

/**
 * Everything a processor checks before forwarding a flow, pure: the ticket's signature and
 * expiry, that its epoch is not older than the contract's last change, that this processor is
 * the hop the ticket says, and that the peer who sent it is the hop before.
 */
export function verifyHop(input: {
  token: string | undefined;
  hopHeader: string | undefined;
  me: string;
  peer: PeerIdentity | null;
  /** Signature and expiry check (a TicketCache in the processor). */
  verify: (token: string, nowSec?: number) => TicketVerdict;
  contractEpochs: Record<number, number>;
  nowSec?: number;
}): HopVerdict {
  if (!input.token) return { ok: false, code: 'TRELLIS_DENY_NO_TICKET', reason: 'refused: no flow ticket' };
  const v = input.verify(input.token, input.nowSec);
  // A key this hop does not hold yet (a rotation it has not heard of): stale, not forged; the
  // agent refreshes and retries while this hop refetches its keys.
  if (!v.ok) {
    const r = ticketRefusal(v);
    return { ok: false, code: r.code, reason: r.reason, ...(r.stale && { stale: true }) };
  }
  const t = v.ticket;
  const hop = Number(input.hopHeader);
  const where = `contract "${t.contract}" (${t.src} -> ${t.dst})`;
  if (!Number.isInteger(hop) || hop < 0 || hop >= t.path.length || t.path[hop]!.name !== input.me) {
    return {
      ok: false,
      code: 'TRELLIS_DENY_WRONG_HOP',
      ticket: t,
      reason: `refused: ${input.me} is not hop ${shownHop(input.hopHeader)} of the ticket's path [${t.path.map((h) => h.name).join(', ')}] for ${where}`,
    };
  }
  const changed = input.contractEpochs[t.contractId];
  if (changed !== undefined && t.policyEpoch < changed) {
    return {
      ok: false,
      code: 'TRELLIS_DENY_STALE_EPOCH',
      stale: true,
      ticket: t,
      reason: `refused: ticket for ${where} predates the contract's last change (epoch ${t.policyEpoch} < ${changed})`,
    };
  }
  const want = expectedPrevious(t.path, hop, t.src);
  if (
    !input.peer ||
    input.peer.kind !== want.kind ||
    input.peer.name !== want.name ||
    input.peer.domain === undefined
  ) {
    const who = input.peer ? `${input.peer.kind} ${input.peer.name}` : 'an unidentified peer';
    return {
      ok: false,
      code: 'TRELLIS_DENY_WRONG_PEER',
      ticket: t,
      reason: `refused: ticket for ${where} presented by ${who}, expected ${want.kind} ${want.name}`,
    };
  }
  return { ok: true, ticket: t, hop };
}

/** The peer's `trellis-hop` as a refusal names it: short, so a reason fits a denial report. */
function shownHop(raw: string | undefined): string {
  if (raw === undefined) return '(none)';
  return raw.length > 20 ? `${JSON.stringify(raw.slice(0, 20))}… (${raw.length} characters)` : raw;
}
