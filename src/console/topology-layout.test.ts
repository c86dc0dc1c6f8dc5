import { describe, expect, it } from 'vitest';
import { layoutTopology, workloadBox } from './topology-layout.js';

/** A fabric of `p` processors in a ring and `w` workloads spread over them. */
function fabric(p: number, w: number) {
  const processors = Array.from({ length: p }, (_, i) => `zone${i % 3}-p${i + 1}`);
  return {
    processors,
    links: processors.map((a, i) => ({ a, b: processors[(i + 1) % p]! })),
    workloads: Array.from({ length: w }, (_, i) => ({
      name: `svc-${i + 10}-vm`,
      processor: processors[i % p],
    })),
  };
}

describe('layoutTopology', () => {
  it.each([
    [4, 2],
    [4, 16],
    [6, 24],
    [8, 42],
  ])(
    '%i processors, %i workloads: no two workload label boxes overlap, all outside the processor ring',
    (p, w) => {
      const t = fabric(p, w);
      const pos = layoutTopology(t);
      const boxes = t.workloads.map((x) => ({ ...workloadBox(x.name), ...pos.get(x.name)! }));
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) {
          const apart = Math.abs(a.x - b.x) >= (a.w + b.w) / 2 || Math.abs(a.y - b.y) >= (a.h + b.h) / 2;
          expect(apart).toBe(true);
        }
      }
      // Outside the processors' ellipse (x stretched by the same factor): never over a link.
      const procR = Math.max(...t.processors.map((n) => Math.hypot(pos.get(n)!.x / 1.6, pos.get(n)!.y)));
      for (const b of boxes) expect(Math.hypot(b.x / 1.6, b.y)).toBeGreaterThan(procR + 50);
    },
  );

  it('puts a workload near its processor', () => {
    const t = fabric(4, 4);
    const pos = layoutTopology(t);
    for (const w of t.workloads) {
      const near = t.processors
        .map((p) => ({
          p,
          d: Math.hypot(pos.get(p)!.x - pos.get(w.name)!.x, pos.get(p)!.y - pos.get(w.name)!.y),
        }))
        .sort((a, b) => a.d - b.d)[0]!.p;
      expect(near).toBe(w.processor);
    }
  });
});
