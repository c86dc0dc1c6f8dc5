import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FlowTableReport } from '../../model/flow-table.js';
import type { FabricEvent } from '../events.js';
import { FlowTableEvents } from './flow-table-events.js';

const report = (processor: string, packets: number, entries = 1, idleAge = 0): FlowTableReport => ({
  processor,
  reportedAt: new Date().toISOString(),
  table30: { packets, bytes: packets * 100, flows: entries },
  table50Total: entries,
  table50: Array.from({ length: entries }, (_, i) => ({
    srcNodeId: 'fd32::11',
    dstNodeId: 'fd32::21',
    contractId: 7,
    flowLabel: i,
    inPort: 'agent',
    outPort: 'gcp-p1',
    packets,
    bytes: packets * 100,
    idleAge,
    idleTimeout: 60,
  })),
});

describe('FlowTableEvents (a processor pushing its flow table → `flows` events)', () => {
  let sent: FabricEvent[];
  let events: FlowTableEvents;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    events = new FlowTableEvents((e) => sent.push(e), 1_000);
  });
  afterEach(() => {
    events.close();
    vi.useRealTimers();
  });
  const revisions = (p: string) =>
    sent.flatMap((e) => (e.type === 'flows' && e.processor === p ? [e.revision] : []));

  it('announces the first report and each change, but not a table whose idle ages alone moved', () => {
    events.reported(report('aws-p1', 10));
    vi.advanceTimersByTime(5_000);
    events.reported(report('aws-p1', 10, 1, 4));
    vi.advanceTimersByTime(1_000);
    events.reported(report('aws-p1', 25));
    expect(sent).toEqual([
      expect.objectContaining({ type: 'flows', processor: 'aws-p1', revision: 1, table50Total: 1 }),
      expect.objectContaining({ type: 'flows', processor: 'aws-p1', revision: 2 }),
    ]);
  });

  it('a processor pushing 100 changed tables a second gets one event a second, the last state included', () => {
    for (let i = 1; i <= 250; i++) {
      events.reported(report('aws-p1', i));
      vi.advanceTimersByTime(10);
    }
    // 2.5 s of pushes: the first at once, then, each second, the latest (the rest coalesced).
    expect(revisions('aws-p1')).toEqual([1, 100, 200]);
    vi.advanceTimersByTime(1_000);
    // The burst's last report (revision 250) is announced when its interval is over.
    expect(revisions('aws-p1')).toEqual([1, 100, 200, 250]);
    vi.advanceTimersByTime(10_000);
    expect(revisions('aws-p1')).toHaveLength(4);
  });

  it('coalesces per processor: one busy processor does not hold back another', () => {
    events.reported(report('aws-p1', 1));
    events.reported(report('aws-p1', 2));
    events.reported(report('gcp-p1', 1));
    expect(revisions('aws-p1')).toEqual([1]);
    expect(revisions('gcp-p1')).toEqual([1]);
  });

  it('close() drops what is pending: nothing is published after the orchestrator closed', () => {
    events.reported(report('aws-p1', 1));
    events.reported(report('aws-p1', 2));
    events.close();
    vi.advanceTimersByTime(5_000);
    expect(revisions('aws-p1')).toEqual([1]);
  });
});
