import type { Denial } from '../../model/denial.js';
import type { Orchestrator } from '../context.js';
import { viewDenials } from '../policy/denial-view.js';
import { listNodes } from '../store/repos/nodes.js';
import { iso } from '../store/repos/time.js';

/**
 * After a node's report is stored: one `denial` event per domain the report names, each denial
 * as GET /denials lists it (its code, node names, `at` as the store gives it back), so a watch
 * prints the same row from the event as from a read. Per domain because who may see a denial
 * is decided by its domain (api/event-scope.ts); a processor's one report may name several.
 * Nothing is read when no stream asked for denials (`?kinds=denial`).
 */
export async function publishDenials(o: Orchestrator, reportedBy: string, denials: Denial[]): Promise<void> {
  if (denials.length === 0 || !o.events.wants('denial')) return;
  const nodes = await listNodes(o.db, null);
  const byDomain = new Map<string, Denial[]>();
  for (const d of denials) {
    const stored = { ...d, at: iso(d.at) };
    const list = byDomain.get(d.domain);
    if (list) list.push(stored);
    else byDomain.set(d.domain, [stored]);
  }
  const at = new Date().toISOString();
  for (const [domain, rows] of byDomain) {
    o.events.publish({
      type: 'denial',
      domain,
      reportedBy,
      denials: viewDenials(rows, nodes, { limit: rows.length }),
      at,
    });
  }
}
