/**
 * Where the Topology page draws each node: processors on an inner ellipse (in the order with the
 * fewest crossing links), workload nodes on one or two outer rings, each placed as near its
 * processor's angle as the ring allows. Workloads outside the processors' ellipse are never
 * drawn over a link or its cost label (links are chords inside it), and the rings' radii are
 * chosen from the label sizes so that no two label boxes overlap, at 6 nodes or at 50.
 * Pure: the browser test checks the drawn boxes; src/console/topology-layout.test.ts the maths.
 */

export interface LayoutInput {
  processors: string[];
  /** Each workload with the processor it hangs off (its first one that is drawn), if any. */
  workloads: { name: string; processor?: string }[];
  links: { a: string; b: string }[];
}

export type Point = { x: number; y: number };

/** Horizontal stretch: the canvas is wider than tall; stretching only moves boxes apart. */
const STRETCH = 1.6;
/** Label boxes as cytoscape draws them (src/console/pages/topology.ts STYLE), generously. */
const CHAR_W = 9;
const WORKLOAD_H = 28 + 6 + 20;
const PROCESSOR = 76;
const MARGIN = 14;
/** Above this many workloads a second, staggered ring halves the radius. */
const ONE_RING_MAX = 20;

export function workloadBox(name: string): { w: number; h: number } {
  return { w: Math.max(30, name.length * CHAR_W + 6), h: WORKLOAD_H };
}

function processorBox(name: string): { w: number; h: number } {
  return { w: Math.max(PROCESSOR, name.length * (CHAR_W + 1)), h: PROCESSOR };
}

/** Two boxes whose centres are at least this far apart cannot overlap. */
const clearance = (a: { w: number; h: number }, b: { w: number; h: number }) =>
  Math.hypot((a.w + b.w) / 2, (a.h + b.h) / 2) + MARGIN;

/** The radius at which `n` points evenly spaced `k` slots apart are `d` apart. */
const radiusFor = (n: number, d: number, k = 1) => (n <= k ? 0 : d / (2 * Math.sin((Math.PI * k) / n)));

export function layoutTopology(t: LayoutInput): Map<string, Point> {
  const pos = new Map<string, Point>();
  const at = (r: number, a: number): Point => ({ x: STRETCH * r * Math.cos(a), y: r * Math.sin(a) });

  const procs = circleOrder(t.processors, t.links);
  const pMax = procs.map(processorBox).reduce((m, b) => ({ w: Math.max(m.w, b.w), h: Math.max(m.h, b.h) }), {
    w: PROCESSOR,
    h: PROCESSOR,
  });
  const rp = Math.max(150, radiusFor(procs.length, clearance(pMax, pMax)));
  const angleOf = new Map<string, number>();
  procs.forEach((p, i) => {
    const a = (2 * Math.PI * i) / Math.max(procs.length, 1) - Math.PI / 2;
    angleOf.set(p, a);
    pos.set(p, procs.length === 1 ? { x: 0, y: 0 } : at(rp, a));
  });

  const n = t.workloads.length;
  if (n === 0) return pos;
  const wMax = t.workloads
    .map((w) => workloadBox(w.name))
    .reduce((m, b) => ({ w: Math.max(m.w, b.w), h: m.h }), { w: 0, h: WORKLOAD_H });
  const d = clearance(wMax, wMax);
  const rings = n > ONE_RING_MAX ? 2 : 1;
  // Every point of the outer ring is at least (r1 - rp) from every point of the inner one.
  const r1 = Math.max(procs.length === 0 ? 0 : rp + clearance(pMax, wMax), radiusFor(n, d, rings), d);
  // Slots evenly spaced; workloads take them in the order of the angle they want (their
  // processor's, the bottom for one without), the whole ring turned to fit those angles best.
  const want = (w: { processor?: string }) =>
    w.processor !== undefined && angleOf.has(w.processor) ? angleOf.get(w.processor)! : Math.PI / 2;
  const sorted = [...t.workloads].sort(
    (x, y) => norm(want(x)) - norm(want(y)) || x.name.localeCompare(y.name),
  );
  const step = (2 * Math.PI) / n;
  // The circular mean of (wanted angle − slot angle): the ring's turn with least total deviation.
  let sx = 0;
  let sy = 0;
  sorted.forEach((w, i) => {
    const dev = want(w) - i * step;
    sx += Math.cos(dev);
    sy += Math.sin(dev);
  });
  const turn = sx === 0 && sy === 0 ? 0 : Math.atan2(sy, sx);
  sorted.forEach((w, i) => {
    const r = r1 + (i % rings) * d;
    pos.set(w.name, at(r, turn + i * step));
  });
  return pos;
}

const norm = (a: number) => ((a % (2 * Math.PI)) + 2 * Math.PI) % (2 * Math.PI);

/**
 * The processors' order around the ellipse with the fewest crossing links (tried exhaustively
 * for a small fabric; a large one keeps the API's order).
 */
export function circleOrder(names: string[], links: { a: string; b: string }[]): string[] {
  if (names.length > 7) return names;
  let best = names;
  let bestCrossings = Number.POSITIVE_INFINITY;
  const permute = (done: string[], rest: string[]) => {
    if (rest.length === 0) {
      const at = new Map(done.map((n, i) => [n, i]));
      const chords: [number, number][] = [];
      for (const l of links) {
        const a = at.get(l.a);
        const b = at.get(l.b);
        if (a !== undefined && b !== undefined) chords.push(a < b ? [a, b] : [b, a]);
      }
      // Two chords of a circle cross when exactly one end of one lies strictly inside the other.
      const inside = (x: number, [a, b]: [number, number]) => a < x && x < b;
      let crossings = 0;
      for (const [i, p] of chords.entries()) {
        for (const q of chords.slice(i + 1)) {
          if (new Set([...p, ...q]).size === 4 && inside(q[0], p) !== inside(q[1], p)) crossings++;
        }
      }
      if (crossings < bestCrossings) {
        bestCrossings = crossings;
        best = done;
      }
      return;
    }
    // The first processor stays first: rotations of one order are the same drawing.
    for (const [i, n] of rest.entries()) permute([...done, n], [...rest.slice(0, i), ...rest.slice(i + 1)]);
  };
  permute(names.slice(0, 1), names.slice(1));
  return best;
}
