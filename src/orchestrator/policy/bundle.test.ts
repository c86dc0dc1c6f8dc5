import { describe, expect, it } from 'vitest';
import { SEED_CONTRACTS } from '../../../test/support/voting-app.js';
import type { Contract } from '../../model/index.js';
import { computeBundle, type NodeView } from './bundle.js';

const contracts: Contract[] = Object.entries(SEED_CONTRACTS).map(([name, [client, server]], i) => ({
  name,
  domain: 'voting-app',
  id: 0x1000 + i,
  description: '',
  mode: 'enforce',
  proxyProtocol: true,
  roles: [
    { name: 'client', users: [client], pathParams: {} },
    { name: 'server', users: [server], pathParams: {} },
  ],
}));

const node = (name: string, owner: string, kind: NodeView['kind'] = 'workload'): NodeView => ({
  name,
  kind,
  nodeId: `fd00::${name.length}${owner.length}`,
  owner,
  domain: kind === 'processor' ? 'infra' : 'voting-app',
  addresses: ['127.0.2.1'],
  processors: kind === 'processor' ? [] : ['aws-p1'],
  endpoint: '127.0.2.1:7443',
  status: 'connected',
  lastSeen: '2026-11-25T00:00:00Z',
  registeredAt: '2026-11-25T00:00:00Z',
});

describe('computeBundle peers', () => {
  it('names exactly the host owners whose nodes the bundle depends on', () => {
    const nodes = [
      node('aws-p1', 'fabric-ops', 'processor'),
      node('gcp-11', 'voting-svc'),
      node('aws-11', 'http-proxy'),
    ];
    const bundle = (owner: string) =>
      computeBundle({
        node: node('vm', owner),
        contracts,
        nodes,
        links: [],
        epoch: 1,
        nowSec: 0,
        ttlSec: 60,
      }).peers;
    // voting-svc serves http-proxy (voting-frontend) and is a client of voting-db (voting-backend).
    expect(bundle('voting-svc')).toEqual(['http-proxy', 'voting-db']);
    expect(bundle('http-proxy')).toEqual(['result-svc', 'voting-svc']);
    expect(bundle('worker')).toEqual(['result-db', 'voting-db']);
    // result-db serves two clients and reaches no one.
    expect(bundle('result-db')).toEqual(['result-svc', 'worker']);
  });
});

describe('computeBundle fallbacks (failover without the orchestrator)', () => {
  // aws-p1 — gcp-p1 (10), aws-p2 — gcp-p1 (10), aws-p1 — aws-p2 (5): the client VM attaches to
  // aws-p1 then aws-p2; the server VM to gcp-p1.
  const link = (a: string, b: string, cost: number) => ({
    name: `${a}-${b}`,
    a,
    b,
    cost,
    status: 'up' as const,
  });
  const links = [link('aws-p1', 'gcp-p1', 10), link('aws-p2', 'gcp-p1', 10), link('aws-p1', 'aws-p2', 5)];
  const procs = ['aws-p1', 'aws-p2', 'gcp-p1'].map((p) => ({
    ...node(p, 'fabric-ops', 'processor'),
    endpoint: `${p}:7500`,
  }));
  const hello: Contract = {
    ...contracts[0]!,
    name: 'hello',
    roles: [
      { name: 'client', users: ['service1'], pathParams: {} },
      { name: 'server', users: ['service2'], pathParams: {} },
    ],
  };
  const bundleOf = (clientProcessors: string[], serverProcessors: string[], c: Contract = hello) =>
    computeBundle({
      node: { ...node('aws-11', 'service1'), processors: clientProcessors },
      contracts: [c],
      nodes: [...procs, { ...node('gcp-11', 'service2'), processors: serverProcessors }],
      links,
      epoch: 1,
      nowSec: 0,
      ttlSec: 60,
    }).client[0]!.targets[0]!;

  it('issues one ticket per client-side processor of the VM, preferred first, each avoiding the ones before it', () => {
    const t = bundleOf(['aws-p1', 'aws-p2'], ['gcp-p1']);
    expect(t.ticket!.path.map((h) => h.name)).toEqual(['aws-p1', 'gcp-p1']);
    expect(t.fallbacks!.map((f) => f.path.map((h) => h.name))).toEqual([['aws-p2', 'gcp-p1']]);
    expect(t.fallbacks![0]!.src).toBe('aws-11');
  });

  it('leaves a server-side processor that is also the failed one: the fallback exits elsewhere', () => {
    const t = bundleOf(['aws-p1', 'aws-p2'], ['aws-p1', 'gcp-p1']);
    expect(t.ticket!.path.map((h) => h.name)).toEqual(['aws-p1']);
    expect(t.fallbacks!.map((f) => f.path.map((h) => h.name))).toEqual([['aws-p2', 'gcp-p1']]);
  });

  it('issues no fallback that would break the contract (a transit through the preferred processor)', () => {
    const viaP1: Contract = {
      ...hello,
      roles: [
        { name: 'client', users: ['service1'], pathParams: { transit: 'aws-p1' } },
        { name: 'server', users: ['service2'], pathParams: {} },
      ],
    };
    const t = bundleOf(['aws-p1', 'aws-p2'], ['gcp-p1'], viaP1);
    expect(t.ticket!.path.map((h) => h.name)).toEqual(['aws-p1', 'gcp-p1']);
    expect(t.fallbacks).toBeUndefined();
  });

  it('has no fallbacks for a VM with one processor (the bundle does not grow)', () => {
    expect(bundleOf(['aws-p1'], ['gcp-p1']).fallbacks).toBeUndefined();
  });
});

describe('computeBundle with a path longer than a flow ticket carries (issue 11 finding 5)', () => {
  // A transit stored before it was checked when written: [aws-p2, gcp-p1]×8 between a client
  // at aws-p1 and a server at gcp-p1 is a walk of 17 processors, one more than a ticket holds.
  const link = (a: string, b: string) => ({ name: `${a}-${b}`, a, b, cost: 1, status: 'up' as const });
  const procs = ['aws-p1', 'aws-p2', 'gcp-p1'].map((p) => ({
    ...node(p, 'fabric-ops', 'processor'),
    endpoint: `${p}:7500`,
  }));
  const links = [link('aws-p1', 'aws-p2'), link('aws-p2', 'gcp-p1'), link('aws-p1', 'gcp-p1')];
  const loop = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 'aws-p2' : 'gcp-p1'));
  const of = (transit: string[]): Contract => ({
    ...contracts[0]!,
    name: 'hello',
    roles: [
      { name: 'client', users: ['service1'], pathParams: { transit } },
      { name: 'server', users: ['service2'], pathParams: {} },
    ],
  });
  const bundle = (c: Contract[]) =>
    computeBundle({
      node: node('aws-11', 'service1'),
      contracts: c,
      nodes: [...procs, { ...node('gcp-11', 'service2'), processors: ['gcp-p1'] }],
      links,
      epoch: 1,
      nowSec: 0,
      ttlSec: 60,
    });

  it('refuses that contract with an error on its target instead of a ticket the signer would throw on', () => {
    const b = bundle([of(loop), { ...of(['aws-p2']), name: 'fine', id: 0x2000 }]);
    const [long, fine] = b.client;
    expect(long!.targets[0]!.ticket).toBeUndefined();
    expect(long!.targets[0]!.error).toBe(
      'contract "hello": no path from aws-p1 to gcp-p1 via [aws-p2, gcp-p1, aws-p2, gcp-p1, aws-p2, gcp-p1, aws-p2, gcp-p1, aws-p2, gcp-p1, aws-p2, gcp-p1, aws-p2, gcp-p1, aws-p2, gcp-p1] fits in a flow ticket, which carries at most 16 processors (15 links)',
    );
    // The other contracts of the bundle are untouched.
    expect(fine!.targets[0]!.ticket!.path.map((h) => h.name)).toEqual(['aws-p1', 'aws-p2', 'gcp-p1']);
  });
});
