import { describe, expect, it } from 'vitest';
import type { Denial } from '../../model/denial.js';
import { type NamedNode, parseTimeBound, viewDenials } from './denial-view.js';

const NODES: NamedNode[] = [
  { name: 'aws-11', nodeId: 'fd00::11', kind: 'workload', owner: 'http-proxy', domain: 'voting-app' },
  { name: 'gcp-11', nodeId: 'fd00::21', kind: 'workload', owner: 'voting-svc', domain: 'voting-app' },
  { name: 'aws-p1', nodeId: 'fd00::1', kind: 'processor', owner: 'fabric-ops', domain: 'infra' },
  { name: 'other-1', nodeId: 'fd00::99', kind: 'workload', owner: 'secret-owner', domain: 'getaway-app' },
];
const noServer = (at: string): Denial => ({
  at,
  reportedBy: 'aws-11',
  kind: 'deny',
  domain: 'voting-app',
  contract: 'voting-frontend',
  contractId: 1,
  role: 'client',
  src: null,
  dst: null,
  code: 'TRELLIS_DENY_NO_SERVER',
  reason: 'refused: contract "voting-frontend" has no usable path (no server instance is connected)',
});
const wrongOwner: Denial = {
  ...noServer('2026-01-01T00:00:09Z'),
  reportedBy: 'gcp-11',
  role: 'server',
  src: 'fd00::11',
  dst: 'fd00::21',
  code: 'TRELLIS_DENY_NOT_SERVED',
  reason: 'denied: gcp-11 does not serve the server role of contract "voting-frontend"',
};

describe('viewDenials', () => {
  const rows = [
    wrongOwner,
    noServer('2026-01-01T00:00:03Z'),
    noServer('2026-01-01T00:00:02Z'),
    noServer('2026-01-01T00:00:01Z'),
  ];

  it('names the reporting client agent as the source of a flow it had no path for', () => {
    const [v] = viewDenials([noServer('2026-01-01T00:00:01Z')], NODES, { limit: 10 });
    expect(v!.source).toEqual({ nodeId: 'fd00::11', name: 'aws-11', owner: 'http-proxy' });
    expect(v!.destination).toBeNull();
    expect(v!.code).toBe('TRELLIS_DENY_NO_SERVER');
  });

  it('groups repeats with a count and their first and last time', () => {
    const v = viewDenials(rows, NODES, { group: true, limit: 10 });
    expect(v.map((d) => [d.code, d.count, d.firstAt, d.at])).toEqual([
      ['TRELLIS_DENY_NOT_SERVED', 1, '2026-01-01T00:00:09Z', '2026-01-01T00:00:09Z'],
      ['TRELLIS_DENY_NO_SERVER', 3, '2026-01-01T00:00:01Z', '2026-01-01T00:00:03Z'],
    ]);
    expect(v[0]!.source?.name).toBe('aws-11');
    expect(v[0]!.destination?.name).toBe('gcp-11');
  });

  it('filters by reason code and by node (reporter, source or destination)', () => {
    expect(viewDenials(rows, NODES, { code: 'TRELLIS_DENY_NO_SERVER', limit: 10 })).toHaveLength(3);
    expect(viewDenials(rows, NODES, { node: 'gcp-11', limit: 10 })).toHaveLength(1);
    expect(viewDenials(rows, NODES, { node: 'aws-11', limit: 10 })).toHaveLength(4);
    expect(viewDenials(rows, NODES, { node: 'aws-p1', limit: 10 })).toHaveLength(0);
  });

  it('groups refusals without a known code by their reason text, not all into one row', () => {
    // An older node's reports (no code) say different things; one row for all would hide them.
    const old = (reason: string, at: string): Denial => ({
      ...noServer(at),
      code: 'TRELLIS_DENY_NO_CODE',
      reason,
    });
    const v = viewDenials(
      [old('refused: a', '2026-01-01T00:00:01Z'), old('refused: b', '2026-01-01T00:00:02Z')],
      NODES,
      { group: true, limit: 10 },
    );
    expect(v.map((d) => [d.code, d.reason, d.count])).toEqual([
      ['TRELLIS_DENY_NO_CODE', 'refused: b', 1],
      ['TRELLIS_DENY_NO_CODE', 'refused: a', 1],
    ]);
  });

  it('does not name a node of another domain that a report names', () => {
    const [v] = viewDenials([{ ...wrongOwner, src: 'fd00::99' }], NODES, { limit: 10 });
    expect(v!.source).toEqual({ nodeId: 'fd00::99', name: 'fd00::99', owner: '' });
  });
});

describe('parseTimeBound', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it.each([
    ['15m', '2026-01-01T11:45:00.000Z'],
    ['2h', '2026-01-01T10:00:00.000Z'],
    ['2026-01-01T09:30:00Z', '2026-01-01T09:30:00.000Z'],
  ])('%s', (v, want) => expect(parseTimeBound(v, now)?.toISOString()).toBe(want));
  it.each(['yesterday', '15', '1e9'])('refuses %s', (v) => expect(parseTimeBound(v, now)).toBeNull());
});
