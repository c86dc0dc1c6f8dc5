import type { NodeKind } from '../model/index.js';
import type { Orchestrator } from './context.js';

export interface NodeRef {
  name: string;
  kind: NodeKind;
  domain: string;
  owner: string;
}

/**
 * The one way a node's status change reaches the fabric: a node event for subscribers (agents
 * of its peers, the console), and — when a processor came or went — a policy epoch bump,
 * because every path through it changes. A workload node changes no path: its peers learn it
 * from the node event alone. A deleted node was already disconnected (and counted then).
 */
export async function nodeStatusChanged(
  o: Pick<Orchestrator, 'events' | 'bumpEpoch'>,
  nodes: readonly NodeRef[],
  status: 'connected' | 'disconnected' | 'unreachable' | 'deleted',
): Promise<void> {
  for (const n of nodes) {
    o.events.publish({ type: 'node', name: n.name, kind: n.kind, domain: n.domain, owner: n.owner, status });
  }
  if (status !== 'deleted' && nodes.some((n) => n.kind === 'processor')) await o.bumpEpoch();
}
