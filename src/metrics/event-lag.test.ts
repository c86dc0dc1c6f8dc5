import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { eventLagSeconds, observeEventLag } from './event-lag.js';

describe('event lag', () => {
  const published = Date.UTC(2026, 0, 1, 12, 0, 0);
  const at = new Date(published).toISOString();

  it("is now minus the event's `at`, in seconds; 0 when clocks put it in the future", () => {
    expect(eventLagSeconds({ type: 'policy', epoch: 3, at }, published + 250)).toBe(0.25);
    expect(eventLagSeconds({ type: 'policy', epoch: 3, at }, published - 1000)).toBe(0);
  });

  it('is undefined without a readable `at`', () => {
    expect(eventLagSeconds({ type: 'hello', epoch: 3 })).toBeUndefined();
    expect(eventLagSeconds({ at: 'yesterday' })).toBeUndefined();
    expect(eventLagSeconds(null)).toBeUndefined();
    expect(eventLagSeconds('x')).toBeUndefined();
  });

  it('observes policy events only, and only once the applied epoch includes them', async () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'lag', help: 'lag', buckets: [1], registers: [registry] });
    const count = async () => (await h.get()).values.find((v) => v.metricName === 'lag_count')?.value;
    observeEventLag(h, 'hello', { epoch: 3, at }, undefined, published + 100);
    observeEventLag(h, 'policy', { epoch: 4, at }, 3, published + 100);
    expect(await count()).toBe(0);
    observeEventLag(h, 'policy', { epoch: 4, at }, 4, published + 100);
    observeEventLag(h, 'policy', { epoch: 5, at }, undefined, published + 100);
    expect(await count()).toBe(2);
  });
});
