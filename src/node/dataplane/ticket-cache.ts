import { type FlowTicket, type TicketKeys, type TicketVerdict, verifyTicket } from '../../wire/ticket.js';

/**
 * Remembers tickets whose signature verified: every flow of one (contract, client, server)
 * carries the same token for an hour, so a hop decodes and verifies it once, not per flow.
 * Expiry is still checked on every use. Bounded: the oldest entries go first.
 */
export class TicketCache {
  readonly #verified = new Map<string, FlowTicket>();

  constructor(
    /** One key, or a lookup by key ID (node/runtime/ticket-keys.ts) so the signing key can rotate. */
    private readonly key: TicketKeys,
    private readonly max = 10_000,
  ) {}

  verify(token: string, nowSec = Date.now() / 1000): TicketVerdict {
    const hit = this.#verified.get(token);
    if (hit) {
      if (hit.expiresAt > nowSec) return { ok: true, ticket: hit };
      this.#verified.delete(token);
    }
    const v = verifyTicket(token, this.key, nowSec);
    if (v.ok) {
      if (this.#verified.size >= this.max) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, v.ticket);
    }
    return v;
  }
}
