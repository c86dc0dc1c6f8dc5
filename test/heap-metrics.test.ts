import { collectDefaultMetrics, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseHeapMetrics } from '../bench/heap-metrics.js';

// The control-plane bench reads the orchestrator's memory from its /metrics: the parser must
// understand what prom-client really writes (labels such as component="orchestrator" included).
describe('bench heap metrics', () => {
  it("reads V8's heap and its spaces from prom-client's default metrics", async () => {
    const register = new Registry();
    register.setDefaultLabels({ component: 'orchestrator' });
    collectDefaultMetrics({ register });
    const m = parseHeapMetrics(await register.metrics());
    expect(m.heapTotal).toBeGreaterThan(1);
    expect(m.heapUsed).toBeGreaterThan(0);
    expect(m.heapUsed).toBeLessThanOrEqual(m.heapTotal);
    expect(Number.isFinite(m.external)).toBe(true);
    expect([...m.spaces.keys()]).toEqual(expect.arrayContaining(['new', 'old', 'code']));
    for (const { used, total } of m.spaces.values()) expect(used).toBeLessThanOrEqual(total);
    const sum = [...m.spaces.values()].reduce((s, x) => s + x.total, 0);
    expect(sum).toBeCloseTo(m.heapTotal, 0);
  });

  it('gives NaN, not zero, for a process that answered nothing', () => {
    const m = parseHeapMetrics('');
    expect(m.heapUsed).toBeNaN();
    expect(m.spaces.size).toBe(0);
  });
});
