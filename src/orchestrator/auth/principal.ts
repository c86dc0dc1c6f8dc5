import type { AdminRole, ResourceUserKind } from '../../model/index.js';

/** Who is calling: an admin (console/CLI) or a resource user (agent/processor). */
export type Principal =
  | { type: 'admin'; name: string; role: AdminRole; domain: string | null }
  | { type: 'resource'; name: string; kind: ResourceUserKind; domain: string };

/** Stable text for audit records and logs: `admin:alice`, `hostOwner:voting-app/worker`. */
export function describePrincipal(p: Principal): string {
  return p.type === 'admin' ? `${p.role}:${p.name}` : `${p.kind}:${p.domain}/${p.name}`;
}
