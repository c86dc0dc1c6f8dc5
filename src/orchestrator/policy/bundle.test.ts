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
