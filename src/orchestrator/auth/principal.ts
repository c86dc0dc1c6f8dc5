import type { AdminRole, ResourceUserKind } from '../../model/index.js';

/** Who is calling: an admin (console/CLI) or a resource user (agent/processor). */
export type Principal =
  | { type: 'admin'; name: string; role: AdminRole; domain: string | null }
  | {
      type: 'resource';
      name: string;
      kind: ResourceUserKind;
      domain: string;
      /** Set when the session was opened with a node's own key: it speaks for that node only. */
      node?: string;
    };

/** Stable text for audit records and logs: `admin:alice`, `hostOwner:voting-app/worker`. */
export function describePrincipal(p: Principal): string {
  if (p.type === 'admin') return `${p.role}:${p.name}`;
  return `${p.kind}:${p.domain}/${p.name}${p.node ? ` (node ${p.node})` : ''}`;
}
