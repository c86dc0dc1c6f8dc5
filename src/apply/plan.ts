import type { z } from 'zod';
import {
  type ChangeView,
  type Contract,
  type Domain,
  type Link,
  linkName,
  type PathParams,
  type Processor,
  type ResourceUser,
  type Role,
  type RoleName,
} from '../model/index.js';
import type { ContractSpec, DomainSpec, FabricSpec, LinkSpec, ProcessorSpec } from './fabric-file.js';

/**
 * `trellis apply` as a pure diff: desired spec + current fabric → the changes that make the
 * fabric match the spec, in an order that can be executed one by one. Only the fields the file
 * manages are compared, so state the server adds (contract ids, nodes) never shows as a change,
 * and applying the same file twice plans nothing the second time.
 */

export interface FabricState {
  domains: Domain[];
  resourceUsers: ResourceUser[];
  contracts: Contract[];
  processors: Processor[];
  links: Link[];
}

/** One change of a plan: the same shape POST /apply answers (model/topology.ts ChangeView). */
export type Change = z.infer<typeof ChangeView>;
export type ChangeKind = Change['kind'];

/** A contract as the plan creates it: the server assigns the id. */
export type ContractDraft = Omit<Contract, 'id'>;
/** A contract's own fields, as a contract `update` carries them; roles change separately. */
export type ContractHeader = Pick<Contract, 'name' | 'domain' | 'description' | 'mode' | 'proxyProtocol'>;

/** Creates and updates run parents first; deletes run children first (the reverse). */
const ORDER: ChangeKind[] = ['domain', 'resourceUser', 'processor', 'link', 'contract', 'role'];
const ROLE_NAMES: RoleName[] = ['client', 'server'];

export function planFabric(spec: FabricSpec, current: FabricState, opts: { prune: boolean }): Change[] {
  const changes: Change[] = [
    ...planDomains(spec, current),
    ...planResourceUsers(spec, current, opts.prune),
    ...planProcessors(spec, current, opts.prune),
    ...planLinks(spec, current, opts.prune),
    ...planContracts(spec, current, opts.prune),
  ];
  const upserts = changes.filter((c) => c.action !== 'delete');
  const deletes = changes.filter((c) => c.action === 'delete');
  // Array.prototype.sort is stable, so within a kind the file's order is kept.
  upserts.sort((x, y) => ORDER.indexOf(x.kind) - ORDER.indexOf(y.kind));
  deletes.sort((x, y) => ORDER.indexOf(y.kind) - ORDER.indexOf(x.kind) || byDomainName(x, y));
  return [...upserts, ...deletes];
}

/** Domains are created and updated but never deleted: see docs/fabric-file.md, "Prune". */
function planDomains(spec: FabricSpec, current: FabricState): Change[] {
  const existing = new Map(current.domains.map((d) => [d.name, d]));
  return spec.domains.flatMap((d): Change[] => {
    const after: Domain = { name: d.name, description: d.description };
    const before = existing.get(d.name);
    if (before === undefined) return [{ action: 'create', kind: 'domain', name: d.name, after }];
    if (before.description === after.description) return [];
    return [{ action: 'update', kind: 'domain', name: d.name, before, after }];
  });
}

function planResourceUsers(spec: FabricSpec, current: FabricState, prune: boolean): Change[] {
  const changes: Change[] = [];
  for (const d of spec.domains) {
    const existing = new Map(
      current.resourceUsers.filter((u) => u.domain === d.name).map((u) => [u.name, u]),
    );
    const desired = desiredUsers(d);
    for (const after of desired) {
      const before = existing.get(after.name);
      const base = { kind: 'resourceUser', name: after.name, domain: d.name } as const;
      if (before === undefined) changes.push({ ...base, action: 'create', after });
      else if (before.kind !== after.kind) changes.push({ ...base, action: 'update', before, after });
    }
    if (!prune) continue;
    const wanted = new Set(desired.map((u) => u.name));
    for (const before of existing.values())
      if (!wanted.has(before.name))
        changes.push({ action: 'delete', kind: 'resourceUser', name: before.name, domain: d.name, before });
  }
  return changes;
}

function desiredUsers(d: DomainSpec): ResourceUser[] {
  return [
    ...d.hostOwners.map((name) => ({ name, domain: d.name, kind: 'hostOwner' as const })),
    ...d.switchOwners.map((name) => ({ name, domain: d.name, kind: 'switchOwner' as const })),
  ];
}

function planProcessors(spec: FabricSpec, current: FabricState, prune: boolean): Change[] {
  if (spec.processors === undefined) return [];
  const existing = new Map(current.processors.map((p) => [p.name, p]));
  const changes = spec.processors.flatMap((p: ProcessorSpec): Change[] => {
    const after: Processor = { name: p.name, zone: p.zone, description: p.description };
    const before = existing.get(p.name);
    if (before === undefined) return [{ action: 'create', kind: 'processor', name: p.name, after }];
    if (before.zone === after.zone && before.description === after.description) return [];
    return [{ action: 'update', kind: 'processor', name: p.name, before, after }];
  });
  if (prune) {
    const wanted = new Set(spec.processors.map((p) => p.name));
    for (const before of current.processors)
      if (!wanted.has(before.name))
        changes.push({ action: 'delete', kind: 'processor', name: before.name, before });
  }
  return changes;
}

/**
 * Links are planned when the file has a `links` section; in any case a link that touches a
 * processor being deleted is deleted first, since it could not outlive its endpoint.
 */
function planLinks(spec: FabricSpec, current: FabricState, prune: boolean): Change[] {
  const existing = new Map(current.links.map((l) => [linkName(l.a, l.b), l]));
  const changes = (spec.links ?? []).flatMap((l: LinkSpec): Change[] => {
    const name = linkName(l.between[0], l.between[1]);
    const after: Link = { name, a: l.between[0], b: l.between[1], cost: l.cost, status: l.status };
    const before = existing.get(name);
    if (before === undefined) return [{ action: 'create', kind: 'link', name, after }];
    if (before.cost === after.cost && before.status === after.status) return [];
    return [{ action: 'update', kind: 'link', name, before, after }];
  });
  if (!prune) return changes;
  const wanted = spec.links && new Set(spec.links.map((l) => linkName(l.between[0], l.between[1])));
  const keptProcessors = spec.processors && new Set(spec.processors.map((p) => p.name));
  for (const [name, before] of existing) {
    const unwanted = wanted !== undefined && !wanted.has(name);
    const orphaned =
      keptProcessors !== undefined && !(keptProcessors.has(before.a) && keptProcessors.has(before.b));
    if (unwanted || orphaned) changes.push({ action: 'delete', kind: 'link', name, before });
  }
  return changes;
}

function planContracts(spec: FabricSpec, current: FabricState, prune: boolean): Change[] {
  const changes: Change[] = [];
  for (const d of spec.domains) {
    const existing = new Map(current.contracts.filter((c) => c.domain === d.name).map((c) => [c.name, c]));
    for (const c of d.contracts) {
      const before = existing.get(c.name);
      if (before === undefined) {
        // One change: the roles travel inside the new contract, nothing to update after it.
        const after: ContractDraft = {
          ...contractHeader(c, d.name),
          roles: ROLE_NAMES.map((r) => roleOf(c, r)),
        };
        changes.push({ action: 'create', kind: 'contract', name: c.name, domain: d.name, after });
        continue;
      }
      changes.push(...planExistingContract(c, d.name, before));
    }
    if (!prune) continue;
    const wanted = new Set(d.contracts.map((c) => c.name));
    for (const before of existing.values())
      if (!wanted.has(before.name))
        changes.push({ action: 'delete', kind: 'contract', name: before.name, domain: d.name, before });
  }
  return changes;
}

function planExistingContract(c: ContractSpec, domain: string, before: Contract): Change[] {
  const changes: Change[] = [];
  const after = contractHeader(c, domain);
  if (
    before.description !== after.description ||
    before.mode !== after.mode ||
    before.proxyProtocol !== after.proxyProtocol
  ) {
    const was: ContractHeader = {
      name: before.name,
      domain,
      description: before.description,
      mode: before.mode,
      proxyProtocol: before.proxyProtocol,
    };
    changes.push({ action: 'update', kind: 'contract', name: c.name, domain, before: was, after });
  }
  for (const r of ROLE_NAMES) {
    const want = roleOf(c, r);
    // A role the server did not report is an empty one: that is what a new contract starts with.
    const have = before.roles.find((x) => x.name === r) ?? { name: r, users: [], pathParams: {} };
    if (sameUsers(have.users, want.users) && samePathParams(have.pathParams, want.pathParams)) continue;
    changes.push({
      action: 'update',
      kind: 'role',
      name: `${c.name}/${r}`,
      domain,
      before: have,
      after: want,
    });
  }
  return changes;
}

function contractHeader(c: ContractSpec, domain: string): ContractHeader {
  return { name: c.name, domain, description: c.description, mode: c.mode, proxyProtocol: c.proxyProtocol };
}

function roleOf(c: ContractSpec, name: RoleName): Role {
  return { name, users: c[name].users, pathParams: c[name].pathParams };
}

/** A User Access List is a set: order and repeats carry no meaning. */
function sameUsers(a: string[], b: string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((u) => y.has(u));
}

/**
 * Equal in meaning: key order ignored, `transit: x` ≡ `transit: [x]`, `avoid` as a set, empty
 * lists ≡ absent. `transit` keeps its order: the waypoints are visited in that order.
 */
export function samePathParams(a: PathParams, b: PathParams): boolean {
  return JSON.stringify(canonicalPathParams(a)) === JSON.stringify(canonicalPathParams(b));
}

function canonicalPathParams(p: PathParams): Record<string, unknown> {
  const transit = typeof p.transit === 'string' ? [p.transit] : p.transit;
  const fields: Record<string, unknown> = {
    avoid: p.avoid?.length ? [...new Set(p.avoid)].sort() : undefined,
    contract: p.contract,
    maxHops: p.maxHops,
    role: p.role,
    transit: transit?.length ? transit : undefined,
  };
  // Keys above are written in sorted order and undefined ones vanish in JSON.stringify.
  return fields;
}

function byDomainName(x: Change, y: Change): number {
  return (x.domain ?? '').localeCompare(y.domain ?? '') || x.name.localeCompare(y.name);
}
