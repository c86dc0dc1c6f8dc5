import type { Contract, Link } from '../../model/index.js';
import type { Orchestrator } from '../context.js';
import { listContracts, contractEpochs as readContractEpochs } from '../store/repos/contracts.js';
import { listLinks } from '../store/repos/links.js';
import { getMeta } from '../store/repos/meta.js';
import { listNodes } from '../store/repos/nodes.js';
import type { NodeView } from './bundle.js';

/** What every bundle is computed from: the whole fabric's policy state at one moment. */
export interface FabricSnapshot {
  epoch: number;
  /** Contract ID → epoch of its last change (what processors check tickets against). */
  contractEpochs: Record<number, number>;
  contractsByDomain: Map<string, Contract[]>;
  nodes: NodeView[];
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

const cache = new WeakMap<Orchestrator, Cached>();
const versions = new WeakMap<Orchestrator, { n: number }>();

/**
 * The fabric's policy state, read once and shared by all bundle requests until something
 * changes: a thousand agents refetching after one contract change cost one read, not a
 * thousand reads of every node, contract and link.
 */
export function fabricSnapshot(o: Orchestrator): Promise<FabricSnapshot> {
  let version = versions.get(o);
  if (!version) {
    const v = { n: 0 };
    versions.set(o, v);
    o.events.subscribe(() => {
      v.n++;
    });
    version = v;
  }
  const hit = cache.get(o);
  if (hit && hit.version === version.n && Date.now() - hit.at < MAX_AGE_MS) return hit.snapshot;
  const snapshot = read(o);
  cache.set(o, { version: version.n, at: Date.now(), snapshot });
  // A failed read must not be served to the next caller.
  snapshot.catch(() => cache.delete(o));
  return snapshot;
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
  return { epoch: epoch ?? 0, contractEpochs, contractsByDomain, nodes: nodes as NodeView[], links };
}
