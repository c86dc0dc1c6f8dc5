import type { Orchestrator } from '../context.js';
import type { FabricEvent } from '../events.js';
import { bundlePeers } from '../policy/bundle.js';
import { fabricSnapshot } from '../policy/snapshot.js';

/**
 * Which events a workload's agent gets: every policy event and processor event, but node
 * events only of its own domain's workloads whose owner is one of its bundle's peers. While
 * 1,000 agents register that is what keeps the fan-out from being 1,000 × 1,000 writes. After
 * a policy event the peers are recomputed; until then everything of the domain is sent, so no
 * event a new peer needs is ever dropped.
 */
export function peerFilter(o: Orchestrator, node: { name: string; owner: string; domain: string }) {
  let peers: Set<string> | null = null;
  let generation = 0;
  let closed = false;
  const load = () => {
    const mine = ++generation;
    peers = null;
    return fabricSnapshot(o)
      .then((snap) => {
        if (closed || mine !== generation) return;
        peers = new Set(bundlePeers(snap.contractsByDomain.get(node.domain) ?? [], node.owner));
      })
      .catch(() => undefined);
  };
  return {
    /** Resolves once the first peer set is known (or failed to load: then all is sent). */
    ready: load(),
    wants(e: FabricEvent | { type: 'hello'; epoch: number }): boolean {
      if (e.type === 'policy') void load();
      if (e.type !== 'node' || e.kind !== 'workload' || e.name === node.name) return true;
      if (e.domain !== node.domain) return false;
      return peers === null || peers.has(e.owner);
    },
    close() {
      closed = true;
    },
  };
}
