import { describe, expect, it } from 'vitest';
import type { DenialView } from '../model/denial.js';
import { denialEvents, denialMatches, flowsEvents } from './watch-events.js';

const view = (over: Partial<DenialView> = {}): DenialView => ({
  kind: 'deny',
  domain: 'voting-app',
  contract: 'voting-frontend',
  contractId: 0x1234,
  role: 'server',
  src: 'fd32::11',
  dst: 'fd32::21',
  reason: 'not in the User Access List of role server',
  at: '2026-12-02T15:00:00.000Z',
  reportedBy: 'gcp-11',
  code: 'TRELLIS_DENY_NOT_IN_ROLE',
  source: { nodeId: 'fd32::11', name: 'aws-11', owner: 'http-proxy' },
  destination: { nodeId: 'fd32::21', name: 'gcp-11', owner: 'voting-svc' },
  count: 1,
  firstAt: '2026-12-02T15:00:00.000Z',
  ...over,
});

describe('denialMatches: the filters of `get denials`, as GET /denials applies them', () => {
  it('domain, contract, reason code and node (reporter, source or destination)', () => {
    const d = view();
    expect(denialMatches(d, undefined, {})).toBe(true);
    expect(
      denialMatches(d, 'voting-app', { contract: 'voting-frontend', reason: 'TRELLIS_DENY_NOT_IN_ROLE' }),
    ).toBe(true);
    // Its metric label too, as GET /denials takes it (`--reason not-in-role`).
    expect(denialMatches(d, 'voting-app', { contract: 'voting-frontend', reason: 'not-in-role' })).toBe(true);
    expect(denialMatches(d, undefined, { reason: 'TRELLIS_DENY_NO_PATH' })).toBe(false);
    expect(denialMatches(d, 'getaway-app', {})).toBe(false);
    expect(denialMatches(d, undefined, { contract: 'voting-backend' })).toBe(false);
    expect(denialMatches(d, undefined, { reason: 'no-path' })).toBe(false);
    for (const node of ['gcp-11', 'aws-11']) expect(denialMatches(d, undefined, { node })).toBe(true);
    expect(denialMatches(d, undefined, { node: 'azr-11' })).toBe(false);
    expect(denialMatches(view({ source: null, destination: null }), undefined, { node: 'aws-11' })).toBe(
      false,
    );
  });
});

describe('denialEvents / flowsEvents: what a watch makes of an event', () => {
  const event = { type: 'denial', domain: 'voting-app', reportedBy: 'gcp-11', at: '', denials: [view()] };

  it('a denial event is its matching rows; other events and other contracts are none', async () => {
    expect(await denialEvents(undefined, {})('denial', event)).toEqual([view()]);
    expect(await denialEvents(undefined, { contract: 'voting-backend' })('denial', event)).toEqual([]);
    expect(await denialEvents(undefined, {})('node', { name: 'aws-11' })).toEqual([]);
  });

  it('grouped or time-bounded listings are read again, only for an event of interest', async () => {
    expect(await denialEvents(undefined, { group: true })('denial', event)).toBe('reread');
    expect(await denialEvents(undefined, { since: '15m' })('denial', event)).toBe('reread');
    expect(await denialEvents('getaway-app', { group: true })('denial', event)).toEqual([]);
  });

  it("a flows event is a re-read of that processor's table, not another's", async () => {
    expect(await flowsEvents('aws-p1')('flows', { processor: 'aws-p1' })).toBe('reread');
    expect(await flowsEvents('aws-p1')('flows', { processor: 'gcp-p1' })).toEqual([]);
    expect(await flowsEvents('aws-p1')('denial', { processor: 'aws-p1' })).toEqual([]);
  });
});
