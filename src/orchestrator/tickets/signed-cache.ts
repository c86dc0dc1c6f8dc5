import { hash } from 'node:crypto';
import type { FlowTicket } from '../../wire/ticket.js';
import { entryMeta, entryToken, packEntry } from './cache-entry.js';

/**
 * Signed flow tickets kept for reuse. A policy change makes every agent of a domain refetch
 * its bundle, but most of the tickets in those bundles say exactly what they said before;
 * signing each one again was most of a bundle's cost (100 Ed25519 signatures ≈ 5.6 ms of
 * 9.4 ms at 1,000 agents). A cached token is reused when the ticket would be identical but for
 * its epoch and times, the contract has not changed since it was signed (processors refuse a
 * ticket older than the contract's last change), and it has enough of its lifetime left (minLifeLeft).
 */
export interface SignedTicket {
  ticket: FlowTicket;
  token: string;
}

/**
 * A reused ticket must outlive the agent's next refresh with margin: an expired ticket is
 * refused (403), not reported stale (412), so nothing would renew it. Agents refresh at half
 * the shortest remaining life of their tickets and at least every 5 minutes (agent/refresh.ts),
 * so a reused ticket must have more than half a lifetime left — 3/4 of it — and, for long
 * lifetimes, at least 10 minutes (two periodic refreshes). With a 120 s TTL a reused ticket
 * then has ≥ 90 s left, and the agent's next refresh comes within 45 s.
 */
const MIN_LIFE_LEFT_SEC = 600;
export function minLifeLeft(ttlSec: number): number {
  return Math.min(ttlSec * 0.75, Math.max(ttlSec / 2, MIN_LIFE_LEFT_SEC));
}

export class SignedTicketCache {
  /** Content digest → the packed entry (cache-entry.ts): what decides reuse, and the token. */
  readonly #entries = new Map<string, string>();

  /**
   * `max`: 1,000 agents with 100 servers each hold 100,000 tickets; an entry is ~0.3 KB of
   * heap (a 32-byte digest of the content as key, the packed entry), so the default costs ≤ ~60 MB.
   */
  constructor(
    private readonly sign: (t: FlowTicket) => string,
    private readonly max = 200_000,
    /** Changes when the signing key does (TicketKeyring.generation). */
    private readonly generation: () => number = () => 0,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The token for `fresh` (a ticket just computed), reusing an earlier one when allowed.
   * `contractEpoch` is the epoch of the contract's last change.
   */
  token(fresh: FlowTicket, contractEpoch: number, nowSec: number, ttlSec: number): SignedTicket {
    const generation = this.generation();
    const key = contentKey(fresh);
    const hit = this.#reuse(key, fresh, contractEpoch, nowSec, ttlSec, generation);
    if (hit) return hit;
    const token = this.sign(fresh);
    this.#keep(key, fresh, token, generation);
    return { ticket: fresh, token };
  }

  /**
   * The same for a bundle's tickets at once: the ones that cannot be reused are signed in one
   * batch by `signMany` (the crypto thread, crypto/thread.ts), in order.
   */
  async tokens(
    fresh: FlowTicket[],
    contractEpoch: (t: FlowTicket) => number,
    nowSec: number,
    ttlSec: number,
    signMany: (tickets: FlowTicket[]) => Promise<string[]>,
  ): Promise<SignedTicket[]> {
    const generation = this.generation();
    const out: SignedTicket[] = new Array(fresh.length);
    const misses: { i: number; key: string }[] = [];
    for (const [i, t] of fresh.entries()) {
      const key = contentKey(t);
      const hit = this.#reuse(key, t, contractEpoch(t), nowSec, ttlSec, generation);
      if (hit) out[i] = hit;
      else misses.push({ i, key });
    }
    if (misses.length === 0) return out;
    const tokens = await signMany(misses.map((m) => fresh[m.i]!));
    for (const [j, { i, key }] of misses.entries()) {
      const token = tokens[j]!;
      // Kept under the generation read before signing: if the key rotated meanwhile, never reused.
      this.#keep(key, fresh[i]!, token, generation);
      out[i] = { ticket: fresh[i]!, token };
    }
    return out;
  }

  #reuse(
    key: string,
    fresh: FlowTicket,
    contractEpoch: number,
    nowSec: number,
    ttlSec: number,
    generation: number,
  ): SignedTicket | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    const hit = entryMeta(entry);
    if (
      hit.generation !== generation ||
      hit.policyEpoch < contractEpoch ||
      hit.expiresAt - nowSec < minLifeLeft(ttlSec)
    )
      return undefined;
    // Same content: only the epoch and the times differ from the ticket just computed.
    const { policyEpoch, issuedAt, expiresAt } = hit;
    return { ticket: { ...fresh, policyEpoch, issuedAt, expiresAt }, token: entryToken(entry) };
  }

  #keep(key: string, fresh: FlowTicket, token: string, generation: number): void {
    // Re-inserted last: the Map's order is then least recently signed first, the one to drop.
    this.#entries.delete(key);
    const { policyEpoch, issuedAt, expiresAt } = fresh;
    this.#entries.set(key, packEntry({ policyEpoch, issuedAt, expiresAt, generation }, token));
    if (this.#entries.size > this.max) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

/**
 * The cache key: a digest of what the ticket says but for its epoch and times, as a 32-char
 * one-byte string (latin1: 48 bytes of heap where base64's 44 chars took 64).
 */
function contentKey(t: FlowTicket): string {
  const { issuedAt: _i, expiresAt: _e, policyEpoch: _p, ...content } = t;
  // One-shot hash(): no Hash object per ticket (~1 µs of the ~8 µs a lookup costs). 'binary' is latin1.
  return hash('sha256', JSON.stringify(content), 'binary');
}
