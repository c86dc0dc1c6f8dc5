import { describe, expect, it } from 'vitest';
import type { FabricEvent } from './events.js';
import { EventHub } from './events.js';

const node: FabricEvent = {
  type: 'node',
  name: 'aws-11',
  kind: 'workload',
  domain: 'voting-app',
  owner: 'http-proxy',
  status: 'connected',
};
const flows: FabricEvent = {
  type: 'flows',
  processor: 'aws-p1',
  revision: 1,
  reportedAt: '2026-12-02T15:00:00.000Z',
  table50Total: 1,
  at: '2026-12-02T15:00:00.000Z',
};
const denial: FabricEvent = {
  type: 'denial',
  domain: 'voting-app',
  reportedBy: 'aws-p1',
  denials: [],
  at: '2026-12-02T15:00:00.000Z',
};

describe('EventHub: on-request kinds (denial, flows) reach only the listeners that named them', () => {
  it('a default listener (every node stream, the policy snapshot) never sees them; a named one sees only its kinds', () => {
    const hub = new EventHub();
    const all: string[] = [];
    const watcher: string[] = [];
    const tapped: string[] = [];
    hub.subscribe((e) => all.push(e.type));
    const off = hub.subscribe((e) => watcher.push(e.type), ['flows', 'node']);
    hub.tap((e) => tapped.push(e.type));
    expect(hub.wants('flows')).toBe(true);
    expect(hub.wants('denial')).toBe(false);
    for (const e of [node, flows, denial]) hub.publish(e);
    expect(all).toEqual(['node']);
    expect(watcher).toEqual(['node', 'flows']);
    expect(tapped).toEqual(['node', 'flows', 'denial']);
    expect(hub.subscribers).toBe(2);
    off();
    off();
    expect(hub.subscribers).toBe(1);
    expect(hub.wants('flows')).toBe(false);
    hub.publish(flows);
    expect(watcher).toEqual(['node', 'flows']);
  });
});
