import { notFound, TrellisError } from '../../errors.js';
import type { Contract, ContractMode, PathParams, Role, RoleName } from '../../model/index.js';
import { pathWarnings } from '../policy/path-warnings.js';
import { validatePathParams, validateRole } from '../policy/validate-role.js';
import type { Sql } from '../store/db.js';
import {
  deleteContract,
  getContract,
  insertContract,
  newContractId,
  updateContract,
  upsertRole,
} from '../store/repos/contracts.js';
import { listLinks } from '../store/repos/links.js';
import { listNodes } from '../store/repos/nodes.js';
import type { WriteTx } from '../write.js';
import { domainOr404 } from './domains.js';

export async function contractOr404(sql: Sql, domain: string, name: string): Promise<Contract> {
  const c = await getContract(sql, domain, name);
  if (!c) throw notFound('contract', name, ` in domain "${domain}"`);
  return c;
}

export interface ContractInput {
  name: string;
  description: string;
  mode: ContractMode;
  proxyProtocol: boolean;
  roles: Record<RoleName, { users: string[]; pathParams: PathParams }>;
}

/** `roleField(role)` says where each role came from, for errors that point into it. */
export async function createContract(
  w: WriteTx,
  domain: string,
  input: ContractInput,
  field: string,
  roleField: (role: RoleName) => string,
): Promise<Contract> {
  await domainOr404(w.sql, domain);
  if (await getContract(w.sql, domain, input.name)) {
    throw new TrellisError(
      'TRELLIS_ERR_ALREADY_EXISTS',
      `contract "${input.name}" already exists in domain "${domain}"`,
      {
        field: `${field}.name`,
      },
    );
  }
  const roles: Role[] = [];
  for (const name of ['client', 'server'] as const) {
    const r = input.roles[name];
    await validateRole(w.sql, domain, input.name, name, r, roleField(name));
    roles.push({ name, users: r.users, pathParams: r.pathParams });
  }
  // Each role alone, then the server's against the client's: a conflict names the server role.
  validatePathParams('client', input.roles.client.pathParams, undefined, roleField('client'));
  validatePathParams(
    'server',
    input.roles.server.pathParams,
    input.roles.client.pathParams,
    roleField('server'),
  );
  const contract: Contract = {
    name: input.name,
    domain,
    id: await newContractId(w.sql),
    description: input.description,
    mode: input.mode,
    proxyProtocol: input.proxyProtocol,
    roles,
  };
  await insertContract(w.sql, contract);
  w.policyChanged(contract.id, { before: null, after: contract });
  await w.audit({
    action: 'create',
    kind: 'contract',
    name: contract.name,
    domain,
    before: null,
    after: contract,
  });
  return contract;
}

export async function changeContract(
  w: WriteTx,
  domain: string,
  name: string,
  patch: { description?: string; mode?: ContractMode; proxyProtocol?: boolean },
): Promise<Contract> {
  const before = await contractOr404(w.sql, domain, name);
  const after: Contract = {
    ...before,
    description: patch.description ?? before.description,
    mode: patch.mode ?? before.mode,
    proxyProtocol: patch.proxyProtocol ?? before.proxyProtocol,
  };
  await updateContract(w.sql, after);
  await w.audit({ action: 'update', kind: 'contract', name, domain, before, after });
  if (after.mode !== before.mode || after.proxyProtocol !== before.proxyProtocol)
    w.policyChanged(after.id, { before, after });
  return after;
}

export async function removeContract(w: WriteTx, domain: string, name: string): Promise<void> {
  const before = await contractOr404(w.sql, domain, name);
  await deleteContract(w.sql, before.id);
  await w.audit({ action: 'delete', kind: 'contract', name, domain, before, after: null });
  w.policyChanged(before.id, { before, after: null });
}

/**
 * Sets a role's User Access List and/or path params; what the patch leaves out stays.
 * `peerParams` are the other role's path params to check against when they are about to
 * change too (an apply that rewrites both roles); the stored ones otherwise.
 */
export async function changeRole(
  w: WriteTx,
  domain: string,
  contract: string,
  role: RoleName,
  patch: { users?: string[]; pathParams?: PathParams },
  field: string,
  peerParams?: PathParams,
): Promise<Contract> {
  const before = await contractOr404(w.sql, domain, contract);
  const current = before.roles.find((r) => r.name === role)!;
  const next: Role = {
    name: role,
    users: patch.users ?? current.users,
    pathParams: patch.pathParams ?? current.pathParams,
  };
  await validateRole(w.sql, domain, contract, role, next, field);
  const peer = peerParams ?? before.roles.find((r) => r.name !== role)?.pathParams;
  validatePathParams(role, next.pathParams, peer, field);
  await upsertRole(w.sql, before.id, next);
  await w.audit({
    action: 'update',
    kind: 'role',
    name: `${contract}/${role}`,
    domain,
    before: current,
    after: next,
  });
  const after: Contract = { ...before, roles: before.roles.map((r) => (r.name === role ? next : r)) };
  w.policyChanged(before.id, { before, after });
  return after;
}

/** Why today's topology routes none of some of the contract's flows (accepted, but said). */
export async function contractPathWarnings(sql: Sql, c: Contract): Promise<string[]> {
  const [nodes, links] = await Promise.all([listNodes(sql, null), listLinks(sql)]);
  return pathWarnings(c, nodes, links);
}

/** A written contract with the path warnings its answer carries, when there are any. */
export async function withPathWarnings(sql: Sql, c: Contract): Promise<Contract & { warnings?: string[] }> {
  const warnings = await contractPathWarnings(sql, c);
  return warnings.length > 0 ? { ...c, warnings } : c;
}
