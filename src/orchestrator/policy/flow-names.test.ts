import { describe, expect, it } from 'vitest';
import type { FlowTableReport } from '../../model/flow-table.js';
import { nameFlows } from './flow-names.js';

const entry = (src: string, dst: string, contractId: number) => ({
  srcNodeId: src,
  dstNodeId: dst,
  contractId,
  flowLabel: 1,
  inPort: 'a',
  outPort: 'b',
  packets: 1,
  bytes: 1,
  idleAge: 0,
  idleTimeout: 60,
});
const REPORT: FlowTableReport = {
  processor: 'aws-p1',
  reportedAt: '2026-01-01T00:00:00Z',
  table30: { packets: 2, bytes: 2, flows: 2 },
  table50Total: 2,
  table50: [entry('fd::11', 'fd::21', 7), entry('fd::91', 'fd::1', 9)],
};
const NODES = [
  { name: 'aws-11', nodeId: 'fd::11', kind: 'workload', domain: 'voting-app' },
  { name: 'gcp-11', nodeId: 'fd::21', kind: 'workload', domain: 'voting-app' },
  { name: 'sea-91', nodeId: 'fd::91', kind: 'workload', domain: 'getaway-app' },
  { name: 'gcp-p1', nodeId: 'fd::1', kind: 'processor', domain: 'infra' },
];
const CONTRACTS = [
  { id: 7, name: 'voting-frontend', domain: 'voting-app' },
  { id: 9, name: 'booking', domain: 'getaway-app' },
];

describe('nameFlows', () => {
  it('names nodes and contracts beside their IDs', () => {
    const t = nameFlows(REPORT, NODES, CONTRACTS, null);
    expect(t.table50.map((e) => [e.srcNode, e.dstNode, e.contract])).toEqual([
      ['aws-11', 'gcp-11', 'voting-app/voting-frontend'],
      ['sea-91', 'gcp-p1', 'getaway-app/booking'],
    ]);
  });

  it("names for a domainAdmin only its domain's nodes and contracts (and processors)", () => {
    const t = nameFlows(REPORT, NODES, CONTRACTS, ['voting-app']);
    expect(t.table50.map((e) => [e.srcNode, e.dstNode, e.contract])).toEqual([
      ['aws-11', 'gcp-11', 'voting-app/voting-frontend'],
      [null, 'gcp-p1', null],
    ]);
  });
});
