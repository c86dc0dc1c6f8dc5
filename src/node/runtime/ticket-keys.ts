import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { PublishedTicketKey } from '../../model/node.js';
import { keyIdHex, ticketKeyId } from '../../wire/ticket.js';

export type { PublishedTicketKey } from '../../model/node.js';

/**
 * The ticket keys a node verifies with, by key ID. The orchestrator publishes every key that
 * may have signed a live ticket (the registration answer, the agent's bundle, the processor's
 * policy); a ticket naming a key the node does not hold makes it refetch them, at most once
 * per `minRefetchMs`, so a stranger sending made-up key IDs cannot turn it into a flood.
 */
export class TicketKeySet {
  #keys = new Map<number, KeyObject>();
  #lastRefetch = 0;

  constructor(
    private readonly refetch: () => void,
    private readonly log: Logger,
    private readonly minRefetchMs = 2_000,
  ) {}

  /** Replaces the keys; IDs are derived here from the keys themselves, never trusted as sent. */
  update(keys: readonly PublishedTicketKey[] | undefined, legacyPem?: string): void {
    const pems = keys && keys.length > 0 ? keys.map((k) => k.publicKeyPem) : legacyPem ? [legacyPem] : [];
    if (pems.length === 0) return;
    const next = new Map<number, KeyObject>();
    for (const pem of pems) {
      const key = createPublicKey(pem);
      next.set(ticketKeyId(key), key);
    }
    this.#keys = next;
  }

  get ids(): string[] {
    return [...this.#keys.keys()].map(keyIdHex);
  }

  /** For verifyTicket: the key with this ID, or undefined (and a refetch, rate-limited). */
  readonly lookup = (keyId: number): KeyObject | undefined => {
    const key = this.#keys.get(keyId);
    if (key) return key;
    const now = Date.now();
    if (now - this.#lastRefetch >= this.minRefetchMs) {
      this.#lastRefetch = now;
      this.log.info(
        { keyId: keyIdHex(keyId), have: this.ids },
        'ticket signed by an unknown key; refetching ticket keys',
      );
      this.refetch();
    }
    return undefined;
  };
}
