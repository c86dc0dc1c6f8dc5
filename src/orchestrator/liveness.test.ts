import { describe, expect, it } from 'vitest';
import { UNREACHABLE_AFTER_MS } from '../node/runtime/beat.js';
import { silentNodes } from './liveness.js';

describe('silentNodes (who the liveness sweep marks unreachable)', () => {
  const now = 1_000_000;
  const live = new Map([
    ['gcp-p1', 1],
    ['gcp-vm1', 1],
    ['old-agent', 1],
  ]);

  it('marks a node holding its stream whose beats stopped longer than the window', () => {
    const beats = new Map([
      ['gcp-p1', now - UNREACHABLE_AFTER_MS - 1],
      ['gcp-vm1', now - UNREACHABLE_AFTER_MS + 300],
    ]);
    expect(silentNodes(beats, live, now)).toEqual(['gcp-p1']);
  });

  it('leaves alone a node that never beat (an older release: stream-only liveness)', () => {
    expect(silentNodes(new Map(), live, now)).toEqual([]);
  });

  it('leaves alone a node whose stream is closed (that one is disconnected, not unreachable)', () => {
    const beats = new Map([['aws-p1', now - 10 * UNREACHABLE_AFTER_MS]]);
    expect(silentNodes(beats, live, now)).toEqual([]);
  });
});
