import { z } from 'zod';
import { parseFieldPath } from '../field-path.js';
import {
  ContractMode,
  Description,
  LinkCost,
  LinkStatus,
  linkName,
  mentionedProcessors,
  Name,
  PathParams,
  peerRole,
  type RoleName,
} from '../model/index.js';

/**
 * The schema of a fabric file (`trellis apply -f fabric.yaml`): the desired state of the
 * domains, resource users, contracts, processors and links it lists. Every object is strict so
 * a misspelt key is an error instead of a silently ignored setting.
 */

export const FABRIC_API_VERSION = 'trellis/v1';

/** One side of a contract; `name` is implied by the key (`client:` / `server:`). */
export const RoleSpec = z.strictObject({
  users: z.array(Name).max(1024).default([]),
  pathParams: PathParams.default({}),
});
export type RoleSpec = z.infer<typeof RoleSpec>;

export const ContractSpec = z.strictObject({
  name: Name,
  description: Description.default(''),
  mode: ContractMode.default('enforce'),
  /** The server agent prepends a PROXY protocol v2 header with the client's address. */
  proxyProtocol: z.boolean().default(false),
  // A role may be left out while the service graph is being drawn: it then has no users and
  // nobody can hold it, which is the deny-by-default the fabric wants.
  client: RoleSpec.default({ users: [], pathParams: {} }),
  server: RoleSpec.default({ users: [], pathParams: {} }),
});
export type ContractSpec = z.infer<typeof ContractSpec>;

export const DomainSpec = z.strictObject({
  name: Name,
  description: Description.default(''),
  hostOwners: z.array(Name).max(1024).default([]),
  switchOwners: z.array(Name).max(1024).default([]),
  contracts: z.array(ContractSpec).max(4096).default([]),
});
export type DomainSpec = z.infer<typeof DomainSpec>;

export const ProcessorSpec = z.strictObject({
  name: Name,
  zone: z.string().min(1).max(63),
  description: Description.default(''),
});
export type ProcessorSpec = z.infer<typeof ProcessorSpec>;

/** `between` is unordered: [a, b] and [b, a] are the same link (`linkName`). */
export const LinkSpec = z.strictObject({
  between: z.tuple([Name, Name]),
  cost: LinkCost.default(10),
  status: LinkStatus.default('up'),
});
export type LinkSpec = z.infer<typeof LinkSpec>;

/** A problem found by the cross-checks, with the path of the field it concerns. */
export interface SpecProblem {
  path: (string | number)[];
  message: string;
}

const FabricShape = z.strictObject({
  apiVersion: z.literal(FABRIC_API_VERSION),
  kind: z.literal('Fabric'),
  secretsFile: z.string().min(1).max(4096).optional(),
  // `processors` and `links` stay undefined when absent: absent means "not managed by this
  // file" (never pruned), while an empty list means "there should be none".
  processors: z.array(ProcessorSpec).max(4096).optional(),
  links: z.array(LinkSpec).max(65536).optional(),
  domains: z.array(DomainSpec).max(1024).default([]),
});

/** The whole file, cross-checked (see `checkFabricSpec`). */
export const FabricSpec = FabricShape.superRefine((spec, ctx) => {
  for (const p of checkFabricSpec(spec)) ctx.addIssue({ code: 'custom', message: p.message, path: p.path });
});
export type FabricSpec = z.infer<typeof FabricShape>;

/**
 * The checks one file can make on its own. Anything that needs the fabric's current state
 * (a processor declared elsewhere, a link to an existing processor) is left to the server.
 */
export function checkFabricSpec(spec: FabricSpec): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const processors = spec.processors === undefined ? undefined : new Set(spec.processors.map((p) => p.name));

  firstSeen(
    spec.processors ?? [],
    (p) => p.name,
    (i, name) => problems.push({ path: ['processors', i, 'name'], message: `duplicate processor "${name}"` }),
  );
  spec.links?.forEach((link, i) => {
    const [a, b] = link.between;
    if (a === b)
      problems.push({ path: ['links', i, 'between', 1], message: 'a link joins two different processors' });
    link.between.forEach((name, end) => {
      if (processors !== undefined && !processors.has(name))
        problems.push({ path: ['links', i, 'between', end], message: `unknown processor "${name}"` });
    });
  });
  firstSeen(
    spec.links ?? [],
    (l) => linkName(l.between[0], l.between[1]),
    (i, name) => problems.push({ path: ['links', i, 'between'], message: `duplicate link "${name}"` }),
  );

  firstSeen(
    spec.domains,
    (d) => d.name,
    (i, name) => problems.push({ path: ['domains', i, 'name'], message: `duplicate domain "${name}"` }),
  );
  spec.domains.forEach((domain, d) => {
    problems.push(...checkDomain(domain, processors).map((p) => ({ ...p, path: ['domains', d, ...p.path] })));
  });
  return problems;
}

function checkDomain(domain: DomainSpec, processors: Set<string> | undefined): SpecProblem[] {
  const problems: SpecProblem[] = [];
  // A resource user is one account with one kind, so a name may appear once across both lists.
  const users = [
    ...domain.hostOwners.map((name, i) => ({ name, path: ['hostOwners', i] })),
    ...domain.switchOwners.map((name, i) => ({ name, path: ['switchOwners', i] })),
  ];
  firstSeen(
    users,
    (u) => u.name,
    (i, name) => problems.push({ path: users[i]!.path, message: `duplicate resource user "${name}"` }),
  );
  firstSeen(
    domain.contracts,
    (c) => c.name,
    (i, name) => problems.push({ path: ['contracts', i, 'name'], message: `duplicate contract "${name}"` }),
  );

  const hostOwners = new Set(domain.hostOwners);
  domain.contracts.forEach((contract, c) => {
    for (const roleName of ['client', 'server'] as const) {
      const at = (...rest: (string | number)[]) => ['contracts', c, roleName, ...rest];
      for (const p of checkRole(domain.name, contract, roleName, hostOwners, processors))
        problems.push({ path: at(...p.path), message: p.message });
    }
  });
  return problems;
}

function checkRole(
  domainName: string,
  contract: ContractSpec,
  roleName: RoleName,
  hostOwners: Set<string>,
  processors: Set<string> | undefined,
): SpecProblem[] {
  const problems: SpecProblem[] = [];
  const role = contract[roleName];
  role.users.forEach((user, i) => {
    if (!hostOwners.has(user))
      problems.push({
        path: ['users', i],
        message: `"${user}" is not a hostOwner of domain "${domainName}" in this file`,
      });
  });
  firstSeen(
    role.users,
    (u) => u,
    (i, name) => problems.push({ path: ['users', i], message: `duplicate user "${name}"` }),
  );

  // The seed writes the peer role and the contract into the params; a mismatch means the
  // params were copied from another role or contract, which would route the wrong traffic.
  const params = role.pathParams;
  const peer = peerRole(roleName);
  if (params.role !== undefined && params.role !== peer)
    problems.push({
      path: ['pathParams', 'role'],
      message: `must be "${peer}": pathParams of the ${roleName} role name the peer role`,
    });
  if (params.contract !== undefined && params.contract !== contract.name)
    problems.push({
      path: ['pathParams', 'contract'],
      message: `must be "${contract.name}": pathParams name the contract they belong to`,
    });
  if (processors !== undefined) {
    for (const m of mentionedProcessors(params)) {
      if (processors.has(m.name)) continue;
      const list = m.field.startsWith('transit') ? 'transit' : 'avoid';
      problems.push({
        path: ['pathParams', ...parseFieldPath(m.field)],
        message: `unknown processor "${m.name}" in ${list}`,
      });
    }
  }
  return problems;
}

/** Calls `onDuplicate` for every item whose key was already seen earlier in the list. */
function firstSeen<T>(
  items: T[],
  key: (item: T) => string,
  onDuplicate: (index: number, key: string) => void,
): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const k = key(item);
    if (seen.has(k)) onDuplicate(i, k);
    seen.add(k);
  });
}
