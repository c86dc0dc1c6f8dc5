import type { Contract, Link } from '../../model/index.js';
import type { Orchestrator } from '../context.js';
import { listContracts, contractEpochs as readContractEpochs } from '../store/repos/contracts.js';
import { listLinks } from '../store/repos/links.js';
import { getMeta } from '../store/repos/meta.js';
import { getNode, listNodes } from '../store/repos/nodes.js';
import type { NodeView } from './bundle.js';

/** What every bundle is computed from: the whole fabric's policy state at one moment. */
export interface FabricSnapshot {
  epoch: number;
  /** Contract ID → epoch of its last change (what processors check tickets against). */
  contractEpochs: Record<number, number>;
  contractsByDomain: Map<string, Contract[]>;
  nodes: NodeView[];
  /** The same nodes by name. */
  nodeByName: ReadonlyMap<string, NodeView>;
  links: Link[];
}

// Anything newer than this is served from memory; every published event (policy change,
// node coming or going) invalidates at once, so the age only bounds state no event announces.
const MAX_AGE_MS = 1_000;

interface Cached {
  version: number;
  at: number;
  snapshot: Promise<FabricSnapshot>;
}

/** Per orchestrator: bumped by events that need a full re-read; node events only name nodes. */
interface Changes {
  version: number;
  nodes: Set<string>;
}

const cache = new WeakMap<Orchestrator, Cached>();
const changes = new WeakMap<Orchestrator, Changes>();

/**
 * The fabric's policy state, read once and shared by all bundle requests until something
 * changes: a thousand agents refetching after one contract change cost one read, not a
 * thousand reads of every node, contract and link. A workload node coming or going re-reads
 * only that node (a 1,000-agent rollout would otherwise re-read every node 1,000 times).
 */
export function fabricSnapshot(o: Orchestrator): Promise<FabricSnapshot> {
  let ch = changes.get(o);
  if (!ch) {
    const c: Changes = { version: 0, nodes: new Set() };
    changes.set(o, c);
    o.events.watch((e) => {
      // A peer's ejection is logged and published, never stored: nothing a bundle is made of.
      if (e.type === 'peer-health') return;
      // A processor event is followed by an epoch bump (paths change): re-read everything.
      if (e.type === 'node' && e.kind === 'workload') c.nodes.add(e.name);
      else c.version++;
    });
    ch = c;
  }
  const hit = cache.get(o);
  if (hit && hit.version === ch.version && Date.now() - hit.at < MAX_AGE_MS) {
    if (ch.nodes.size === 0) return hit.snapshot;
    const names = [...ch.nodes];
    ch.nodes.clear();
    return remember(o, ch.version, hit.at, patchNodes(o, hit.snapshot, names));
  }
  ch.nodes.clear();
  return remember(o, ch.version, Date.now(), read(o));
}

function remember(o: Orchestrator, version: number, at: number, snapshot: Promise<FabricSnapshot>) {
  cache.set(o, { version, at, snapshot });
  // A failed read must not be served to the next caller.
  snapshot.catch(() => cache.delete(o));
  return snapshot;
}

/** The snapshot with `names` re-read: updated, added, or dropped if deleted. */
async function patchNodes(
  o: Orchestrator,
  base: Promise<FabricSnapshot>,
  names: string[],
): Promise<FabricSnapshot> {
  const [snap, fresh] = await Promise.all([base, Promise.all(names.map((n) => getNode(o.db, n)))]);
  const byName = new Map(snap.nodes.map((n) => [n.name, n]));
  names.forEach((name, i) => {
    const n = fresh[i];
    if (n) {
      const { publicKey: _, ...view } = n;
      byName.set(name, view as NodeView);
    } else byName.delete(name);
  });
  // listNodes' order (kind, then name), so a patched snapshot equals a fresh read.
  const nodes = [...byName.values()].sort((a, b) =>
    a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.kind < b.kind ? -1 : 1,
  );
  return { ...snap, nodes, nodeByName: byName };
}

async function read(o: Orchestrator): Promise<FabricSnapshot> {
  const [contracts, nodes, links, epoch, contractEpochs] = await Promise.all([
    listContracts(o.db, null),
    listNodes(o.db, null),
    listLinks(o.db),
    getMeta<number>(o.db, 'policyEpoch'),
    readContractEpochs(o.db),
  ]);
  const contractsByDomain = new Map<string, Contract[]>();
  for (const c of contracts) contractsByDomain.set(c.domain, [...(contractsByDomain.get(c.domain) ?? []), c]);
  const views = nodes as NodeView[];
  return {
    epoch: epoch ?? 0,
    contractEpochs,
    contractsByDomain,
    nodes: views,
    nodeByName: new Map(views.map((n) => [n.name, n])),
    links,
  };
}
