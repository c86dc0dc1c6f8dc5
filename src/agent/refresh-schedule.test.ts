import { describe, expect, it } from 'vitest';
import type { AgentBundle } from './bundle.js';
import { MAX_REFRESH_MS, MIN_REFRESH_MS, nextRefreshMs } from './refresh-schedule.js';

const now = 1_000_000_000_000;
const bundle = (expiries: (number | undefined)[]): AgentBundle => ({
  node: 'aws-11',
  nodeId: 'fd00::1',
  epoch: 1,
  server: [],
  client: [
    {
      contract: 'hello',
      contractId: 1,
      domain: 'hello',
      mode: 'enforce',
      allowed: true,
      targets: expiries.map((e) => ({
        server: 'gcp-11',
        dstNodeId: 'fd00::2',
        ...(e !== undefined && { expiresAt: now / 1000 + e, token: 't' }),
      })),
    },
  ],
});

describe('bundle refresh schedule', () => {
  it('refreshes at half the shortest remaining ticket life (120 s tickets: after 60 s)', () => {
    expect(nextRefreshMs(bundle([120, 100]), now)).toBe(50_000);
    expect(nextRefreshMs(bundle([120]), now)).toBe(60_000);
  });

  it('never waits more than 5 minutes, however long the tickets last', () => {
    expect(nextRefreshMs(bundle([3600]), now)).toBe(MAX_REFRESH_MS);
    expect(nextRefreshMs(bundle([]), now)).toBe(MAX_REFRESH_MS);
    expect(nextRefreshMs(undefined, now)).toBe(MAX_REFRESH_MS);
    expect(nextRefreshMs(bundle([undefined]), now)).toBe(MAX_REFRESH_MS);
  });

  it('retries no sooner than every 5 s once tickets are nearly or already expired', () => {
    expect(nextRefreshMs(bundle([4]), now)).toBe(MIN_REFRESH_MS);
    expect(nextRefreshMs(bundle([-30]), now)).toBe(MIN_REFRESH_MS);
  });
});
