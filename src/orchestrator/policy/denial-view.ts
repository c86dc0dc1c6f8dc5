import { DENY_CODES, type DenyCode } from '../../deny-codes.js';
import type { Denial, DenialNode, DenialView } from '../../model/denial.js';

/** What the listing knows of a node to name it. */
export interface NamedNode {
  name: string;
  nodeId: string;
  kind: 'processor' | 'workload';
  owner: string;
  domain: string;
}

export interface DenialFilter {
  code?: DenyCode;
  /** A node name: the reporter, the source or the destination. */
  node?: string;
  group?: boolean;
  limit: number;
}

/**
 * Names, codes, the node filter and grouping of stored denials (most recently reported first
 * in, newest `at` first out). Pure: the API reads the rows and the nodes, this decides what the operator sees.
 */
export function viewDenials(rows: Denial[], nodes: NamedNode[], f: DenialFilter): DenialView[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  // A reported node ID is named only by a node of the denial's own domain (or a processor):
  // a host owner reporting another domain's node ID must not learn that node's name or owner.
  const named = (id: string | null, domain: string): DenialNode | null => {
    if (!id) return null;
    const n = byId.get(id);
    if (!n || (n.kind !== 'processor' && n.domain !== domain)) return { nodeId: id, name: id, owner: '' };
    return { nodeId: id, name: n.name, owner: n.owner };
  };
  const out: DenialView[] = [];
  const groups = new Map<string, DenialView>();
  for (const d of rows) {
    const reporter = byName.get(d.reportedBy);
    // A workload agent that refused a flow is itself one end of it: a client agent reports no
    // node IDs when it had no ticket (no server yet, no permission), yet it is the source; a
    // server agent is the destination.
    const own = reporter?.kind === 'workload' && reporter.domain === d.domain ? reporter.nodeId : null;
    const src = d.src ?? (d.role === 'client' ? own : null);
    const dst = d.dst ?? (d.role === 'server' ? own : null);
    const v: DenialView = {
      ...d,
      src,
      dst,
      source: named(src, d.domain),
      destination: named(dst, d.domain),
      count: 1,
      firstAt: d.at,
    };
    if (f.code && v.code !== f.code) continue;
    if (f.node && ![d.reportedBy, v.source?.name, v.destination?.name].includes(f.node)) continue;
    if (!f.group) {
      out.push(v);
      if (out.length >= f.limit) break;
      continue;
    }
    // The same refusal repeated: one code (or, for a refusal without a code this orchestrator
    // knows, one reason text) on one contract, role and pair of nodes, reported by one node.
    const key = [
      v.kind,
      v.domain,
      v.contract,
      v.role,
      DENY_CODES[v.code].kind === 'unknown' ? v.reason : v.code,
      v.src,
      v.dst,
      v.reportedBy,
    ].join('\u0000');
    const g = groups.get(key);
    if (g) {
      // Rows come in the order they were reported; a batch may carry older times than the last.
      g.count++;
      if (v.at < g.firstAt) g.firstAt = v.at;
      if (v.at > g.at) g.at = v.at;
      continue;
    }
    if (groups.size >= f.limit) continue;
    groups.set(key, v);
    out.push(v);
  }
  // Newest first by when it happened (a group: by its last time); the store's order is arrival.
  return out.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
}

/** `since`/`until` as an ISO time or a duration back from now (`30s`, `15m`, `2h`, `7d`). */
export function parseTimeBound(v: string, now: number): Date | null {
  const m = /^(\d{1,6})(s|m|h|d)$/.exec(v);
  if (m) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(m[1]) * unit);
  }
  const t = Date.parse(v);
  return /^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(t) ? new Date(t) : null;
}
