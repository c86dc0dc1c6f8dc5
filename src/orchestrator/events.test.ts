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

describe('EventHub groups: one gate decision per event for all of a group', () => {
  /** A gate that passes node events of `owner` only, and counts what it was asked. */
  function ownerGate(owner: string) {
    return {
      asked: [] as string[],
      closed: false,
      pass(e: FabricEvent) {
        this.asked.push(e.type);
        return e.type !== 'node' || e.owner === owner;
      },
      close() {
        this.closed = true;
      },
    };
  }

  it('asks the gate once per event however many members, delivers only what it passes, and counts members as subscribers', () => {
    const hub = new EventHub();
    const handles = Array.from({ length: 3 }, () => hub.group('d/http-proxy', () => ownerGate('http-proxy')));
    const gate = handles[0]!.gate;
    // One gate for the group: the later joiners' make() is not called.
    expect(handles.every((h) => h.gate === gate)).toBe(true);
    const got: string[][] = handles.map(() => []);
    for (const [i, h] of handles.entries())
      h.subscribe((e) => got[i]!.push(e.type === 'node' ? e.owner : e.type));
    const other = hub.group('d/redis', () => ownerGate('redis'));
    const otherGot: string[] = [];
    other.subscribe((e) => otherGot.push(e.type === 'node' ? e.owner : e.type));
    expect(hub.subscribers).toBe(4);
    hub.publish(node);
    hub.publish(flows);
    // An on-request kind never reaches a group, not even its gate.
    expect(gate.asked).toEqual(['node']);
    expect(got).toEqual([['http-proxy'], ['http-proxy'], ['http-proxy']]);
    expect(otherGot).toEqual([]);
  });

  it('asks a gate whose members have not subscribed yet (a policy event must reach it), and closes it with its last handle', () => {
    const hub = new EventHub();
    const a = hub.group('d/http-proxy', () => ownerGate('http-proxy'));
    const b = hub.group('d/http-proxy', () => ownerGate('http-proxy'));
    hub.publish(node);
    expect(a.gate.asked).toEqual(['node']);
    a.subscribe(() => undefined);
    a.release();
    a.release();
    expect(hub.subscribers).toBe(0);
    expect(a.gate.closed).toBe(false);
    b.release();
    expect(a.gate.closed).toBe(true);
    // A new member after that starts a new group with a new gate.
    expect(hub.group('d/http-proxy', () => ownerGate('http-proxy')).gate).not.toBe(a.gate);
  });

  it("a member's stop (what subscribe returns, like EventHub.subscribe's) ends its delivery; the group lives on until released", () => {
    const hub = new EventHub();
    const a = hub.group('d/http-proxy', () => ownerGate('http-proxy'));
    const got: string[] = [];
    const stop = a.subscribe((e) => got.push(e.type));
    hub.publish(node);
    stop();
    stop();
    hub.publish(node);
    expect(got).toEqual(['node']);
    expect(hub.subscribers).toBe(0);
    // The gate is still asked (the handle is held) and still open.
    expect(a.gate.asked).toEqual(['node', 'node']);
    expect(a.gate.closed).toBe(false);
    a.release();
    expect(a.gate.closed).toBe(true);
  });
});
