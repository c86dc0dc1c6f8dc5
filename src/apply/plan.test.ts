import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Contract, Domain, Link, Processor, ResourceUser, Role } from '../model/index.js';
import type { FabricSpec } from './fabric-file.js';
import { loadFabricFile, parseFabricText } from './load.js';
import { type Change, type ChangeKind, type ContractDraft, type FabricState, planFabric } from './plan.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/voting-app/fabric.yaml', import.meta.url));
const EMPTY: FabricState = { domains: [], resourceUsers: [], contracts: [], processors: [], links: [] };

/**
 * A minimal in-memory executor: what the orchestrator would hold after running `changes` in
 * order. Contract ids are assigned as the server would; a deleted contract takes its roles.
 */
function applyChanges(state: FabricState, changes: Change[]): FabricState {
  const next = structuredClone(state);
  let nextId = Math.max(0, ...next.contracts.map((c) => c.id)) + 1;
  const sameName = (c: Change) => (x: { name: string; domain?: string }) =>
    x.name === c.name && (c.domain === undefined || x.domain === c.domain);
  const upsert = <T extends { name: string; domain?: string }>(list: T[], c: Change, value: T) => {
    const i = list.findIndex(sameName(c));
    if (c.action === 'delete') list.splice(i, 1);
    else if (i < 0) list.push(value);
    else list[i] = value;
  };
  for (const c of changes) {
    switch (c.kind) {
      case 'domain':
        upsert(next.domains, c, c.after as Domain);
        break;
      case 'resourceUser':
        upsert(next.resourceUsers, c, c.after as ResourceUser);
        break;
      case 'processor':
        upsert(next.processors, c, c.after as Processor);
        break;
      case 'link':
        upsert(next.links, c, c.after as Link);
        break;
      case 'contract': {
        const i = next.contracts.findIndex(sameName(c));
        if (c.action === 'create') next.contracts.push({ ...(c.after as ContractDraft), id: nextId++ });
        else if (c.action === 'delete') next.contracts.splice(i, 1);
        else next.contracts[i] = { ...next.contracts[i]!, ...(c.after as Partial<Contract>) };
        break;
      }
      case 'role': {
        const [contractName] = c.name.split('/');
        const contract = next.contracts.find((x) => x.name === contractName && x.domain === c.domain)!;
        const role = c.after as Role;
        contract.roles = [...contract.roles.filter((r) => r.name !== role.name), role];
        break;
      }
    }
  }
  return next;
}

const kinds = (changes: Change[]) => changes.map((c) => `${c.action} ${c.kind} ${c.name}`);

let example: FabricSpec;
let applied: FabricState;
beforeAll(async () => {
  example = (await loadFabricFile(EXAMPLE)).spec;
  applied = applyChanges(EMPTY, planFabric(example, EMPTY, { prune: false }));
});

/** The example with one edit made by `edit`. */
function edited(edit: (spec: FabricSpec) => void): FabricSpec {
  const spec = structuredClone(example);
  edit(spec);
  return spec;
}

describe('planFabric from an empty fabric', () => {
  it('creates everything in dependency order, each contract in one change with its roles', () => {
    const plan = planFabric(example, EMPTY, { prune: false });
    expect(plan.every((c) => c.action === 'create')).toBe(true);
    const count = (k: ChangeKind) => plan.filter((c) => c.kind === k).length;
    expect([
      count('domain'),
      count('resourceUser'),
      count('processor'),
      count('link'),
      count('contract'),
    ]).toEqual([2, 7, 4, 5, 6]);
    expect(count('role')).toBe(0);
    const order: ChangeKind[] = ['domain', 'resourceUser', 'processor', 'link', 'contract'];
    const ranks = plan.map((c) => order.indexOf(c.kind));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));

    const frontend = plan.find((c) => c.name === 'voting-frontend')!;
    expect(frontend).toMatchObject({ domain: 'voting-app' });
    expect(frontend.after).toEqual({
      name: 'voting-frontend',
      domain: 'voting-app',
      description: 'http-proxy calls voting-svc',
      mode: 'enforce',
      proxyProtocol: false,
      roles: [
        { name: 'client', users: ['http-proxy'], pathParams: {} },
        { name: 'server', users: ['voting-svc'], pathParams: {} },
      ],
    });
    expect(plan.find((c) => c.name === 'fabric-ops')).toMatchObject({
      domain: 'infra',
      after: { name: 'fabric-ops', domain: 'infra', kind: 'switchOwner' },
    });
    expect(plan.find((c) => c.kind === 'link')?.name).toBe('aws-p1--gcp-p1');
  });

  it('never carries a password', () => {
    expect(JSON.stringify(planFabric(example, EMPTY, { prune: true }))).not.toMatch(/password/i);
  });
});

describe('idempotence', () => {
  it('re-planning against the state the plan produced yields nothing, with or without prune', () => {
    expect(applied.contracts.map((c) => c.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(planFabric(example, applied, { prune: false })).toEqual([]);
    expect(planFabric(example, applied, { prune: true })).toEqual([]);
  });

  it('ignores the order of users, of pathParams keys, of link ends and transit: x vs [x]', () => {
    const spec = edited((s) => {
      s.domains[0]!.contracts[0]!.client.pathParams = {
        role: 'server',
        contract: 'voting-frontend',
        transit: 'aws-p2',
      };
    });
    const state = applyChanges(applied, planFabric(spec, applied, { prune: false }));
    const c = state.contracts.find((x) => x.name === 'voting-frontend')!;
    c.roles = c.roles.map((r) =>
      r.name === 'client'
        ? {
            name: 'client',
            users: ['http-proxy'],
            pathParams: { transit: ['aws-p2'], contract: 'voting-frontend', role: 'server' },
          }
        : r,
    );
    state.links = state.links.map((l) => ({ ...l, a: l.b, b: l.a }));
    expect(planFabric(spec, state, { prune: true })).toEqual([]);

    const twoUsers = edited((s) => {
      s.domains[0]!.contracts[0]!.server.users = ['voting-svc', 'result-svc'];
    });
    const after = applyChanges(applied, planFabric(twoUsers, applied, { prune: false }));
    after.contracts[0]!.roles[1]!.users.reverse();
    expect(planFabric(twoUsers, after, { prune: false })).toEqual([]);
  });
});

describe('updates', () => {
  it('a pathParams change of one role is exactly one role update', () => {
    const spec = edited((s) => {
      s.domains[0]!.contracts[0]!.client.pathParams = {
        role: 'server',
        contract: 'voting-frontend',
        transit: 'aws-p2',
      };
    });
    const plan = planFabric(spec, applied, { prune: true });
    expect(plan).toEqual([
      {
        action: 'update',
        kind: 'role',
        name: 'voting-frontend/client',
        domain: 'voting-app',
        before: { name: 'client', users: ['http-proxy'], pathParams: {} },
        after: {
          name: 'client',
          users: ['http-proxy'],
          pathParams: { role: 'server', contract: 'voting-frontend', transit: 'aws-p2' },
        },
      },
    ]);
    expect(planFabric(spec, applyChanges(applied, plan), { prune: true })).toEqual([]);
  });

  it('a transit order change is a change: waypoints are visited in order', () => {
    const a = edited((s) => {
      s.domains[0]!.contracts[0]!.client.pathParams = { transit: ['aws-p2', 'gcp-p1'] };
    });
    const b = edited((s) => {
      s.domains[0]!.contracts[0]!.client.pathParams = { transit: ['gcp-p1', 'aws-p2'] };
    });
    expect(
      planFabric(b, applyChanges(applied, planFabric(a, applied, { prune: false })), { prune: false }),
    ).toHaveLength(1);
  });

  it('description or mode of a contract is one contract update, without roles', () => {
    const spec = edited((s) => {
      s.domains[0]!.contracts[2]!.mode = 'audit';
    });
    const plan = planFabric(spec, applied, { prune: false });
    expect(kinds(plan)).toEqual(['update contract voting-backend']);
    expect(plan[0]!.after).toEqual({
      name: 'voting-backend',
      domain: 'voting-app',
      description: 'voting-svc writes ballots to voting-db',
      mode: 'audit',
      proxyProtocol: false,
    });
  });

  it('domain description, user kind, processor zone and link cost/status', () => {
    const spec = edited((s) => {
      s.domains[0]!.description = 'Vote!';
      s.domains[1]!.switchOwners = [];
      s.domains[1]!.hostOwners = ['fabric-ops'];
      s.processors![3]!.zone = 'azure';
      s.links![4]!.status = 'down';
    });
    expect(kinds(planFabric(spec, applied, { prune: true }))).toEqual([
      'update domain voting-app',
      'update resourceUser fabric-ops',
      'update processor azr-p1',
      'update link aws-p1--azr-p1',
    ]);
  });
});

describe('prune', () => {
  /** The applied example plus things the file does not list. */
  function withExtras(): FabricState {
    const s = structuredClone(applied);
    s.domains.push({ name: 'other', description: '' });
    s.resourceUsers.push(
      { name: 'old-svc', domain: 'voting-app', kind: 'hostOwner' },
      { name: 'web', domain: 'other', kind: 'hostOwner' },
    );
    s.contracts.push(
      {
        name: 'old-edge',
        domain: 'voting-app',
        id: 90,
        description: '',
        mode: 'enforce',
        proxyProtocol: false,
        roles: [],
      },
      {
        name: 'web-edge',
        domain: 'other',
        id: 91,
        description: '',
        mode: 'enforce',
        proxyProtocol: false,
        roles: [],
      },
    );
    s.processors.push({ name: 'aws-p9', zone: 'aws', description: '' });
    s.links.push(
      { name: 'aws-p1--aws-p9', a: 'aws-p1', b: 'aws-p9', cost: 1, status: 'up' },
      { name: 'aws-p2--azr-p1', a: 'aws-p2', b: 'azr-p1', cost: 1, status: 'up' },
    );
    return s;
  }

  it('deletes what the file does not list, children first, and never domains', () => {
    const plan = planFabric(example, withExtras(), { prune: true });
    expect(kinds(plan)).toEqual([
      'delete contract old-edge',
      'delete link aws-p1--aws-p9',
      'delete link aws-p2--azr-p1',
      'delete processor aws-p9',
      'delete resourceUser old-svc',
    ]);
    expect(plan[0]).toMatchObject({ domain: 'voting-app', before: { id: 90 } });
  });

  it('deletes nothing without prune', () => {
    expect(planFabric(example, withExtras(), { prune: false })).toEqual([]);
  });

  it('leaves processors and links alone when the file has no such section', () => {
    const spec = edited((s) => {
      delete s.processors;
      delete s.links;
    });
    expect(kinds(planFabric(spec, withExtras(), { prune: true }))).toEqual([
      'delete contract old-edge',
      'delete resourceUser old-svc',
    ]);
  });

  it('deletes the links of a pruned processor even when links are not managed', () => {
    const spec = edited((s) => {
      delete s.links;
    });
    expect(kinds(planFabric(spec, withExtras(), { prune: true }))).toEqual([
      'delete contract old-edge',
      'delete link aws-p1--aws-p9',
      'delete processor aws-p9',
      'delete resourceUser old-svc',
    ]);
  });

  it('an empty section means none: every processor and link goes', () => {
    const { spec } = parseFabricText('apiVersion: trellis/v1\nkind: Fabric\nprocessors: []\n', 'f.yaml');
    const plan = planFabric(spec, applied, { prune: true });
    expect(plan.every((c) => c.action === 'delete')).toBe(true);
    expect(plan.filter((c) => c.kind === 'link')).toHaveLength(5);
    expect(plan.filter((c) => c.kind === 'processor')).toHaveLength(4);
    expect(plan.filter((c) => c.kind !== 'link' && c.kind !== 'processor')).toEqual([]);
  });

  it('creates come before deletes, so a renamed contract keeps the domain populated', () => {
    const spec = edited((s) => {
      s.domains[0]!.contracts[0]!.name = 'vote-frontend';
    });
    expect(kinds(planFabric(spec, applied, { prune: true }))).toEqual([
      'create contract vote-frontend',
      'delete contract voting-frontend',
    ]);
  });
});
