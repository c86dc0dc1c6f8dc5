import type { ChangeScope } from './policy/change-scope.js';

/** What the orchestrator tells agents, processors and the console as it happens. */
export type FabricEvent =
  /**
   * `at`: when it was published (ISO 8601); nodes measure their event lag from it. `scope`:
   * whose bundles the change may alter (absent: everyone's) — in-process only, never sent as
   * is: it names other domains' owners (api/events.ts turns it into each agent's own answer).
   */
  | { type: 'policy'; epoch: number; at: string; scope?: ChangeScope }
  /** A new ticket key was published: nodes refetch their verifying keys (`ticketKeys`). */
  | { type: 'ticket-keys'; keyId: string; activatesAt: string; at: string }
  | {
      type: 'node';
      name: string;
      kind: string;
      domain: string;
      /** Agents refresh only for nodes whose owner is one of their bundle's `peers`. */
      owner: string;
      status: 'connected' | 'disconnected' | 'unreachable' | 'deleted';
    }
  /**
   * A data-plane node ejected a peer that stopped answering PINGs (its flows fail over), or
   * took it back. `domain`: the reporter's; `peerDomain`: the peer's (who may see it, both).
   */
  | {
      type: 'peer-health';
      node: string;
      domain: string;
      peer: string;
      peerDomain: string;
      state: 'ejected' | 'restored';
      reason?: 'ping-timeout' | 'connect-timeout';
      at: string;
    };

type Listener = (e: FabricEvent) => void;

/**
 * In-process publish/subscribe. Listeners must not block: each SSE subscriber writes to its
 * own socket and is dropped if it falls too far behind (see api/events.ts), so one slow
 * reader never holds up the rest.
 */
export class EventHub {
  readonly #listeners = new Set<Listener>();

  subscribe(l: Listener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** In-process recorders (recent health events): see every event, not counted as subscribers. */
  readonly #taps = new Set<Listener>();

  tap(l: Listener): void {
    this.#taps.add(l);
  }

  publish(e: FabricEvent): void {
    for (const l of this.#taps) l(e);
    for (const l of this.#listeners) l(e);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }
}
