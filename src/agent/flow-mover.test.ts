import { describe, expect, it } from 'vitest';
import { type ActiveFlow, MOVE_IDLE_MS, pathKey, readyToMove } from './flow-mover.js';

const flow = (o: Partial<ActiveFlow>): ActiveFlow => ({
  server: 'gcp-11',
  path: 'aws-p1>gcp-p1',
  lastActive: 0,
  lastSent: null,
  moving: true,
  ...o,
});

describe('moving a flow to a new path', () => {
  it('waits while a request has no answer yet, however long the server takes', () => {
    // The workload sent a request at t=1000; nothing has come back.
    const f = flow({ lastActive: 1_000, lastSent: 'up' });
    expect(readyToMove(f, 1_000 + 10 * MOVE_IDLE_MS)).toBe(false);
    // The answer arrives at t=5000: quiet for MOVE_IDLE_MS after it, the flow may close.
    f.lastActive = 5_000;
    f.lastSent = 'down';
    expect(readyToMove(f, 5_000 + MOVE_IDLE_MS - 1)).toBe(false);
    expect(readyToMove(f, 5_000 + MOVE_IDLE_MS)).toBe(true);
  });

  it('never closes a flow whose path did not change', () => {
    expect(readyToMove(flow({ moving: false, lastSent: 'down' }), 60_000)).toBe(false);
  });

  it('names a path by its processors', () => {
    expect(pathKey([{ name: 'aws-p1' }, { name: 'aws-p2' }, { name: 'gcp-p1' }])).toBe(
      'aws-p1>aws-p2>gcp-p1',
    );
    expect(pathKey(undefined)).toBe('');
  });
});
