import { TrellisError } from '../../errors.js';
import { describePrincipal, type Principal } from './principal.js';

/** Fabric-wide things (processors, links, domains, admin users) belong to systemAdmins. */
export function requireSystemAdmin(p: Principal, what: string): void {
  if (p.type === 'admin' && p.role === 'systemAdmin') return;
  throw new TrellisError(
    'TRELLIS_ERR_FORBIDDEN',
    `${describePrincipal(p)} may not ${what}: only a systemAdmin may`,
  );
}

/** Admins of a domain: every systemAdmin, and the domainAdmin of exactly that domain. */
export function requireDomainAdmin(p: Principal, domain: string, what: string): void {
  if (p.type === 'admin' && (p.role === 'systemAdmin' || p.domain === domain)) return;
  throw new TrellisError(
    'TRELLIS_ERR_FORBIDDEN',
    `${describePrincipal(p)} may not ${what} in domain "${domain}"${p.type === 'admin' && p.domain ? `: it administers only domain "${p.domain}"` : ''}`,
  );
}

/** Any admin; resource users (agents, processors) reach only the endpoints made for them. */
export function requireAdmin(p: Principal, what: string): asserts p is Extract<Principal, { type: 'admin' }> {
  if (p.type === 'admin') return;
  throw new TrellisError(
    'TRELLIS_ERR_FORBIDDEN',
    `${describePrincipal(p)} may not ${what}: admin users only`,
  );
}

/** Which domains' entities a principal may list: null means all of them. */
export function visibleDomains(p: Principal): string[] | null {
  if (p.type === 'admin' && p.role === 'systemAdmin') return null;
  return [p.domain as string];
}

export function canSeeDomain(p: Principal, domain: string): boolean {
  const v = visibleDomains(p);
  return v === null || v.includes(domain);
}
