import type { Principal } from '../auth/principal.js';
import { canSeeDomain } from '../auth/rbac.js';
import type { FabricEvent } from '../events.js';

/**
 * Whether a subscriber may see an event at all, before any per-node narrowing (peer-filter.ts).
 * Workload node events belong to their domain: only its admins and resource users (and
 * systemAdmins) get them, the same rule as `GET /nodes`. Processors serve every domain and
 * every admin lists them, so their node events go to all; policy epochs and ticket keys are
 * fabric-wide numbers every node needs. Denials and flow-table changes go to admins only, by
 * the rules of GET /denials (the denial's domain) and GET /processors/NAME/flows (any admin):
 * never to a node, which must not learn other nodes' refusals or flows.
 */
export function eventVisibleTo(p: Principal, e: FabricEvent | { type: 'hello'; epoch: number }): boolean {
  if (e.type === 'denial') return p.type === 'admin' && canSeeDomain(p, e.domain);
  if (e.type === 'flows') return p.type === 'admin';
  if (e.type === 'peer-health') return canSeeDomain(p, e.domain) || canSeeDomain(p, e.peerDomain);
  if (e.type !== 'node' || e.kind === 'processor') return true;
  return canSeeDomain(p, e.domain);
}
