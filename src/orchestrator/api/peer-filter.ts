import type { Orchestrator } from '../context.js';
import type { EventGate, FabricEvent } from '../events.js';
import { bundlePeers } from '../policy/bundle.js';
import { fabricSnapshot } from '../policy/snapshot.js';

/**
 * Which events a workload's agent gets: every policy event and processor event, but node
 * events only of its own domain's workloads whose owner is one of its bundle's peers. While
 * 1,000 agents register that is what keeps the fan-out from being 1,000 × 1,000 writes. After
 * a policy event the peers are recomputed; until then everything of the domain is sent, so no
 * event a new peer needs is ever dropped.
 *
 * One PeerSet serves every stream of one (domain, host owner) — their peers are the same —
 * as the gate of their group in the event hub (events.ts): a node event is judged once per
 * group, not once per stream, and the peers are recomputed once per group after a policy
 * event (it was once per stream: 1,000 calls per event while 1,000 agents registered).
 */
export class PeerSet implements EventGate {
  #peers: Set<string> | null = null;
  #generation = 0;
  #closed = false;
  /** Resolves once the first peer set is known (or failed to load: then all is sent). */
  readonly ready: Promise<void>;

  constructor(
    private readonly o: Orchestrator,
    readonly domain: string,
    readonly owner: string,
  ) {
    this.ready = this.#load();
  }

  /** The group key of a workload node's streams. */
  static key(node: { owner: string; domain: string }): string {
    return `${node.domain}/${node.owner}`;
  }

  /** Whether any stream of the group may want `e` (the hub's question, once per event). */
  pass(e: FabricEvent): boolean {
    if (e.type === 'policy') void this.#load();
    if (e.type !== 'node' || e.kind !== 'workload') return true;
    // The owner's own nodes: each stream wants its own node's events (wants() below).
    return (e.domain === this.domain && e.owner === this.owner) || this.#ofPeer(e);
  }

  /** Whether the stream of node `name` (of this group) wants `e`. */
  wants(e: FabricEvent | { type: 'hello'; epoch: number }, name: string): boolean {
    if (e.type !== 'node' || e.kind !== 'workload' || e.name === name) return true;
    return this.#ofPeer(e);
  }

  /** A workload node event of a peer of this domain (all of the domain until the peers are known). */
  #ofPeer(e: { domain: string; owner: string }): boolean {
    return e.domain === this.domain && (this.#peers === null || this.#peers.has(e.owner));
  }

  close(): void {
    this.#closed = true;
  }

  #load(): Promise<void> {
    const mine = ++this.#generation;
    this.#peers = null;
    return fabricSnapshot(this.o)
      .then((snap) => {
        if (this.#closed || mine !== this.#generation) return;
        this.#peers = new Set(bundlePeers(snap.contractsByDomain.get(this.domain) ?? [], this.owner));
      })
      .catch(() => undefined);
  }
}
