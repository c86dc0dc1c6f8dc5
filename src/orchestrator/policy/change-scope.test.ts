import { describe, expect, it } from 'vitest';
import type { Contract, Link } from '../../model/index.js';
import { computeBundle, type NodeView } from './bundle.js';
import { bundleMayChange, contractChangeScope, EVERYTHING, ScopeBuilder } from './change-scope.js';

const OWNERS = ['a', 'b', 'c', 'd'];

const contract = (over: Partial<Contract> = {}, client = ['a'], server = ['b']): Contract => ({
  name: 'web',
  domain: 'd1',
  id: 0x1001,
  description: '',
  mode: 'enforce',
  proxyProtocol: false,
  roles: [
    { name: 'client', users: client, pathParams: {} },
    { name: 'server', users: server, pathParams: {} },
  ],
  ...over,
});
const other: Contract = { ...contract({ name: 'db', id: 0x1002 }, ['b'], ['c']) };

const node = (name: string, owner: string, kind: NodeView['kind'] = 'workload'): NodeView => ({
  name,
  kind,
  nodeId: `fd00::${name}`,
  owner,
  domain: kind === 'processor' ? 'infra' : 'd1',
  addresses: ['127.0.2.1'],
  processors: kind === 'processor' ? [] : ['p1'],
  endpoint: `127.0.2.1:7${name.length}00`,
  status: 'connected',
  lastSeen: '2026-12-02T00:00:00Z',
  registeredAt: '2026-12-02T00:00:00Z',
});
const nodes = [
  node('p1', 'ops', 'processor'),
  node('p2', 'ops', 'processor'),
  ...OWNERS.map((o) => node(`vm-${o}`, o)),
];
const links: Link[] = [{ name: 'p1-p2', a: 'p1', b: 'p2', cost: 10, status: 'up' }];

/** The bundle an agent of `owner` would fetch with `contracts` in force. */
const bundleOf = (owner: string, contracts: Contract[]) =>
  JSON.stringify(
    computeBundle({
      node: node(`vm-${owner}`, owner),
      contracts,
      nodes,
      links,
      epoch: 1,
      nowSec: 0,
      ttlSec: 60,
    }),
  );

const withRole = (
  c: Contract,
  role: 'client' | 'server',
  r: Partial<Contract['roles'][number]>,
): Contract => ({
  ...c,
  roles: c.roles.map((x) => (x.name === role ? { ...x, ...r } : x)),
});

const base = contract();
const edits: [string, Contract | null, Contract | null][] = [
  ['client path params (transit p2)', base, withRole(base, 'client', { pathParams: { transit: ['p2'] } })],
  ['server path params', base, withRole(base, 'server', { pathParams: { avoid: ['p2'] } })],
  ['a client added', base, withRole(base, 'client', { users: ['a', 'c'] })],
  ['a server removed', contract({}, ['a'], ['b', 'd']), base],
  ['proxy protocol on', base, { ...base, proxyProtocol: true }],
  ['mode audit', base, { ...base, mode: 'audit' }],
  ['mode back to enforce', { ...base, mode: 'audit' }, base],
  [
    'audit contract params',
    { ...base, mode: 'audit' },
    withRole({ ...base, mode: 'audit' }, 'client', { pathParams: { transit: ['p2'] } }),
  ],
  ['renamed', base, { ...base, name: 'www' }],
  ['created', null, base],
  ['deleted', base, null],
  ['description only', base, { ...base, description: 'new words' }],
];

describe('contractChangeScope', () => {
  for (const [what, before, after] of edits) {
    it(`names every owner whose bundle changes: ${what}`, () => {
      const scope = new ScopeBuilder();
      scope.add(contractChangeScope(before, after));
      const s = scope.build();
      const with_ = (c: Contract | null) => [...(c ? [c] : []), other];
      for (const owner of OWNERS) {
        const changed = bundleOf(owner, with_(before)) !== bundleOf(owner, with_(after));
        // Told "unchanged" only when the bundle it would fetch is byte for byte the one it holds.
        if (changed) expect(bundleMayChange(s, { domain: 'd1', owner }), `${owner}: ${what}`).toBe(true);
      }
    });
  }

  it('leaves out the owners a path change does not concern, and other domains', () => {
    const s = new ScopeBuilder();
    s.add(contractChangeScope(base, withRole(base, 'client', { pathParams: { transit: ['p2'] } })));
    const scope = s.build();
    // The edit does reach a's bundle (its tickets now go p1 -> p2 -> p1).
    expect(bundleOf('a', [base, other])).not.toBe(
      bundleOf('a', [withRole(base, 'client', { pathParams: { transit: ['p2'] } }), other]),
    );
    // Only the client's tickets are re-routed: the server's entry (who may connect) is the same.
    expect(OWNERS.filter((owner) => bundleMayChange(scope, { domain: 'd1', owner }))).toEqual(['a']);
    expect(bundleMayChange(scope, { domain: 'd2', owner: 'a' })).toBe(false);
  });

  it('takes path params equal but for key order as equal (the store reorders jsonb keys)', () => {
    const p1 = withRole(base, 'client', { pathParams: { transit: ['p2'], avoid: [] } });
    const p2 = withRole(base, 'client', { pathParams: { avoid: [], transit: ['p2'] } });
    expect(contractChangeScope(p1, p2).owners).toEqual(new Set());
  });

  it('counts every bundle as changed without a scope, or once anything fabric-wide changed', () => {
    expect(bundleMayChange(undefined, { domain: 'd1', owner: 'a' })).toBe(true);
    const s = new ScopeBuilder();
    s.add({ domain: 'd1', owners: new Set() });
    s.everything();
    expect(s.build()).toEqual(EVERYTHING);
  });

  it("merges a write's changes: all of a domain absorbs its owners", () => {
    const s = new ScopeBuilder();
    s.add({ domain: 'd1', owners: new Set(['a']) });
    s.add({ domain: 'd1', owners: new Set(['b']) });
    s.add({ domain: 'd2', owners: 'all' });
    s.add({ domain: 'd2', owners: new Set(['x']) });
    const scope = s.build();
    expect(['a', 'b', 'c'].map((owner) => bundleMayChange(scope, { domain: 'd1', owner }))).toEqual([
      true,
      true,
      false,
    ]);
    expect(bundleMayChange(scope, { domain: 'd2', owner: 'anyone' })).toBe(true);
  });
});
