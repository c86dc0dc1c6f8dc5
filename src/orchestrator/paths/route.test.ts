import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from './heap.js';
import {
  buildGraph,
  computePath,
  mergeRoleParams,
  type PathConstraints,
  type PathGraph,
  type PathResult,
} from './index.js';

type LinkSpec = PathGraph['links'][number];

const up = (a: string, b: string, cost: number): LinkSpec => ({ a, b, cost, status: 'up' });
const down = (a: string, b: string, cost: number): LinkSpec => ({ a, b, cost, status: 'down' });
const none: PathConstraints = { waypoints: [], avoid: [] };

const seedProcessors = ['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1'];
const seedLinks = [
  up('aws-p1', 'gcp-p1', 10),
  up('aws-p1', 'aws-p2', 5),
  up('aws-p2', 'gcp-p1', 10),
  up('gcp-p1', 'azr-p1', 10),
  up('aws-p1', 'azr-p1', 15),
];
const seed = buildGraph({ processors: seedProcessors, links: seedLinks });

describe('computePath on the seed topology', () => {
  it('takes the direct link when there is no transit', () => {
    expect(computePath(seed, 'aws-p1', 'gcp-p1', none)).toEqual({
      ok: true,
      path: ['aws-p1', 'gcp-p1'],
      cost: 10,
      hops: 1,
    });
  });

  it('goes through the transit processor', () => {
    expect(computePath(seed, 'aws-p1', 'gcp-p1', { waypoints: ['aws-p2'], avoid: [] })).toEqual({
      ok: true,
      path: ['aws-p1', 'aws-p2', 'gcp-p1'],
      cost: 15,
      hops: 2,
    });
  });

  it('excludes down links', () => {
    const g = buildGraph({
      processors: seedProcessors,
      links: seedLinks.map((l) => (l.a === 'aws-p1' && l.b === 'gcp-p1' ? { ...l, status: 'down' } : l)),
    });
    expect(computePath(g, 'aws-p1', 'gcp-p1', none)).toMatchObject({
      path: ['aws-p1', 'aws-p2', 'gcp-p1'],
      cost: 15,
    });
  });

  it('routes around an avoided processor', () => {
    expect(computePath(seed, 'aws-p2', 'azr-p1', { waypoints: [], avoid: ['aws-p1'] })).toMatchObject({
      path: ['aws-p2', 'gcp-p1', 'azr-p1'],
      cost: 20,
    });
  });

  it('does not leak one query’s avoid list into the next on the same graph', () => {
    computePath(seed, 'aws-p2', 'azr-p1', { waypoints: [], avoid: ['aws-p1'] });
    expect(computePath(seed, 'azr-p1', 'aws-p1', none)).toMatchObject({
      path: ['azr-p1', 'aws-p1'],
      cost: 15,
    });
  });
});

describe('computePath semantics', () => {
  it('returns the single processor when from equals to', () => {
    expect(computePath(seed, 'gcp-p1', 'gcp-p1', none)).toEqual({
      ok: true,
      path: ['gcp-p1'],
      cost: 0,
      hops: 0,
    });
    expect(computePath(seed, 'gcp-p1', 'gcp-p1', { waypoints: ['gcp-p1'], avoid: [] })).toMatchObject({
      path: ['gcp-p1'],
    });
  });

  it('goes out to a leaf transit and back', () => {
    const g = buildGraph({ processors: ['a', 'b', 't'], links: [up('a', 't', 1), up('a', 'b', 1)] });
    expect(computePath(g, 'a', 'b', { waypoints: ['t'], avoid: [] })).toEqual({
      ok: true,
      path: ['a', 't', 'a', 'b'],
      cost: 3,
      hops: 3,
    });
  });

  it('counts waypoints equal to from, to or the previous waypoint as visited there', () => {
    const line = buildGraph({ processors: ['a', 'b', 'c'], links: [up('a', 'b', 1), up('b', 'c', 1)] });
    const c = { waypoints: ['a', 'b', 'b', 'c'], avoid: [] };
    expect(computePath(line, 'a', 'c', c)).toMatchObject({ path: ['a', 'b', 'c'], cost: 2 });
    // Not consecutive, so b must be visited again after c.
    expect(computePath(line, 'a', 'c', { waypoints: ['b', 'c', 'b'], avoid: [] })).toMatchObject({
      path: ['a', 'b', 'c', 'b', 'c'],
    });
  });

  it('keeps the cheapest of parallel links and ignores down duplicates', () => {
    const g = buildGraph({
      processors: ['a', 'b'],
      links: [up('a', 'b', 7), down('b', 'a', 1), up('b', 'a', 3)],
    });
    expect(computePath(g, 'a', 'b', none)).toMatchObject({ cost: 3, hops: 1 });
  });

  it('prefers fewer hops among equally cheap paths, whatever the input order', () => {
    const links = [
      up('a', 'b', 1),
      up('b', 'c', 1),
      up('c', 'd', 1),
      up('a', 'd', 3),
      up('a', 'x', 2),
      up('x', 'd', 1),
    ];
    const g1 = buildGraph({ processors: ['a', 'b', 'c', 'd', 'x'], links });
    const g2 = buildGraph({ processors: ['x', 'd', 'c', 'b', 'a'], links: [...links].reverse() });
    const r1 = computePath(g1, 'a', 'd', none);
    expect(r1).toMatchObject({ path: ['a', 'd'], cost: 3 });
    expect(computePath(g2, 'a', 'd', none)).toEqual(r1);
  });

  it('breaks a cost tie by hops even when the longer path is found first', () => {
    const g = buildGraph({
      processors: ['a', 'x', 'y', 'z', 'd'],
      links: [up('a', 'x', 1), up('x', 'y', 1), up('y', 'd', 3), up('a', 'z', 3), up('z', 'd', 2)],
    });
    expect(computePath(g, 'a', 'd', none)).toEqual({ ok: true, path: ['a', 'z', 'd'], cost: 5, hops: 2 });
  });

  it('keeps a dearer but shorter partial path when the cheaper one cannot finish cheaply in time', () => {
    // The cheap prefix a-b-c-v is settled at v with 3 hops, leaving only the dear direct link
    // to d; the dearer prefix a-y-v arrives after that with 2 hops and can still take v-x-d.
    const g = buildGraph({
      processors: ['a', 'b', 'c', 'v', 'y', 'x', 'd'],
      links: [
        up('a', 'b', 1),
        up('b', 'c', 1),
        up('c', 'v', 1),
        up('a', 'y', 4),
        up('y', 'v', 1),
        up('v', 'd', 10),
        up('v', 'x', 1),
        up('x', 'd', 1),
      ],
    });
    expect(computePath(g, 'a', 'd', { ...none, maxHops: 4 })).toEqual({
      ok: true,
      path: ['a', 'y', 'v', 'x', 'd'],
      cost: 7,
      hops: 4,
    });
  });

  it('trades cost for hops under maxHops', () => {
    const g = buildGraph({
      processors: ['a', 'b', 'c', 'd'],
      links: [up('a', 'b', 1), up('b', 'c', 1), up('c', 'd', 1), up('a', 'c', 5), up('a', 'd', 10)],
    });
    expect(computePath(g, 'a', 'd', none)).toMatchObject({ path: ['a', 'b', 'c', 'd'], cost: 3 });
    expect(computePath(g, 'a', 'd', { ...none, maxHops: 2 })).toMatchObject({
      path: ['a', 'c', 'd'],
      cost: 6,
    });
    expect(computePath(g, 'a', 'd', { ...none, maxHops: 1 })).toMatchObject({ path: ['a', 'd'], cost: 10 });
    expect(computePath(g, 'a', 'a', { ...none, maxHops: 0 })).toMatchObject({ path: ['a'], cost: 0 });
  });

  it('rejects non-positive link costs when building', () => {
    expect(() => buildGraph({ processors: ['a', 'b'], links: [up('a', 'b', 0)] })).toThrow(RangeError);
  });
});

describe('computePath failure reasons', () => {
  it('names an unknown processor and where it appears', () => {
    expect(computePath(seed, 'aws-p1', 'gcp-p1', { waypoints: ['aws-p9'], avoid: [] })).toEqual({
      ok: false,
      constraint: 'unknown-processor',
      reason: 'unknown processor "aws-p9" in transit',
    });
    expect(computePath(seed, 'aws-p0', 'gcp-p1', none)).toMatchObject({
      constraint: 'unknown-processor',
      reason: expect.stringContaining('"aws-p0" as the source'),
    });
    expect(computePath(seed, 'aws-p1', 'gcp-p7', none)).toMatchObject({
      constraint: 'unknown-processor',
      reason: expect.stringContaining('"gcp-p7" as the destination'),
    });
  });

  it('ignores avoided processors that do not exist', () => {
    expect(computePath(seed, 'aws-p1', 'gcp-p1', { waypoints: [], avoid: ['old-p1'] })).toMatchObject({
      ok: true,
    });
  });

  it('reports no route over up links', () => {
    const g = buildGraph({
      processors: seedProcessors,
      links: [up('aws-p1', 'aws-p2', 1), down('aws-p2', 'gcp-p1', 1)],
    });
    expect(
      computePath(g, 'aws-p1', 'gcp-p1', { waypoints: ['aws-p2'], avoid: ['azr-p1'], maxHops: 1 }),
    ).toEqual({
      ok: false,
      constraint: 'no-route',
      reason: 'no path from aws-p1 to gcp-p1 over up links',
    });
  });

  it('reports an unreachable transit', () => {
    const g = buildGraph({
      processors: seedProcessors,
      links: [up('aws-p1', 'gcp-p1', 1), down('aws-p2', 'gcp-p1', 1)],
    });
    expect(computePath(g, 'aws-p1', 'gcp-p1', { waypoints: ['aws-p2'], avoid: [] })).toEqual({
      ok: false,
      constraint: 'transit',
      reason: 'transit aws-p2 cannot be reached from aws-p1 over up links',
    });
  });

  it('names the avoided processor every path needs', () => {
    expect(computePath(seed, 'aws-p2', 'azr-p1', { waypoints: [], avoid: ['aws-p1', 'gcp-p1'] })).toEqual({
      ok: false,
      constraint: 'avoid',
      reason: 'avoid [aws-p1, gcp-p1] leaves no path from aws-p2 to azr-p1',
    });
    const line = buildGraph({
      processors: ['a', 'b', 'c', 'x'],
      links: [up('a', 'b', 1), up('b', 'c', 1), up('c', 'x', 1)],
    });
    expect(computePath(line, 'a', 'c', { waypoints: ['x'], avoid: ['b'] })).toEqual({
      ok: false,
      constraint: 'avoid',
      reason: 'every path from a to x passes through avoided processor b (on the way from a to c via [x])',
    });
  });

  it('reports a processor that is both required and avoided', () => {
    expect(computePath(seed, 'aws-p1', 'gcp-p1', { waypoints: ['aws-p2'], avoid: ['aws-p2'] })).toMatchObject(
      {
        constraint: 'avoid',
        reason: expect.stringMatching(/^transit aws-p2 is also in avoid/),
      },
    );
    expect(computePath(seed, 'aws-p1', 'gcp-p1', { waypoints: [], avoid: ['aws-p1'] })).toMatchObject({
      constraint: 'avoid',
      reason: expect.stringMatching(/^source aws-p1 is in avoid/),
    });
    expect(computePath(seed, 'aws-p1', 'gcp-p1', { waypoints: [], avoid: ['gcp-p1'] })).toMatchObject({
      constraint: 'avoid',
      reason: expect.stringMatching(/^destination gcp-p1 is in avoid/),
    });
  });

  it('reports the hops the shortest feasible path needs', () => {
    expect(computePath(seed, 'aws-p1', 'azr-p1', { waypoints: ['aws-p2'], avoid: [], maxHops: 2 })).toEqual({
      ok: false,
      constraint: 'maxHops',
      reason: 'no path from aws-p1 to azr-p1 via [aws-p2] within maxHops 2 (the shortest needs 3)',
    });
    expect(computePath(seed, 'aws-p2', 'azr-p1', { waypoints: [], avoid: ['aws-p1'], maxHops: 1 })).toEqual({
      ok: false,
      constraint: 'maxHops',
      reason: 'no path from aws-p2 to azr-p1 avoiding [aws-p1] within maxHops 1 (the shortest needs 2)',
    });
  });
});

describe('mergeRoleParams', () => {
  it('appends the server’s transit reversed, skipping processors already visited', () => {
    expect(mergeRoleParams({ transit: ['x', 'y'] }, { transit: ['z', 'y', 'w'] })).toEqual({
      waypoints: ['x', 'y', 'w', 'z'],
      avoid: [],
    });
    expect(mergeRoleParams({}, { role: 'client', contract: 'voting-frontend', transit: 'aws-p2' })).toEqual({
      waypoints: ['aws-p2'],
      avoid: [],
    });
  });

  it('unions avoid and takes the tighter maxHops', () => {
    expect(mergeRoleParams({ avoid: ['a', 'b'], maxHops: 5 }, { avoid: ['b', 'c'], maxHops: 3 })).toEqual({
      waypoints: [],
      avoid: ['a', 'b', 'c'],
      maxHops: 3,
    });
    expect(mergeRoleParams({}, { maxHops: 4 }).maxHops).toBe(4);
    expect('maxHops' in mergeRoleParams({}, {})).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests against an independent reference.

/** Names deliberately not in sorted order, so index order and name order differ. */
const NAMES = ['p3', 'a1', 'zz', 'm', 'b-2', 'q', 'c'];

interface Case {
  graph: PathGraph;
  from: string;
  to: string;
  c: PathConstraints;
}

/** Costs up to 9 as links usually have, or up to 2 so that equally cheap paths abound. */
const arbCase: fc.Arbitrary<Case> = fc
  .tuple(fc.integer({ min: 1, max: 7 }), fc.constantFrom(9, 2))
  .chain(([n, maxCost]) => {
    const node = fc.nat(n - 1).map((i) => NAMES[i]!);
    const link = fc.record({
      a: node,
      b: node,
      cost: fc.integer({ min: 1, max: maxCost }),
      status: fc.constantFrom<'up' | 'down'>('up', 'up', 'up', 'up', 'down'),
    });
    return fc
      .record({
        links: fc.array(link, { minLength: n - 1, maxLength: 16 }),
        from: node,
        to: node,
        waypoints: fc.array(node, { maxLength: 2 }),
        avoid: fc.array(node, { maxLength: 2 }),
        keepConflicts: fc.boolean(),
        maxHops: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
      })
      .map(({ links, from, to, waypoints, avoid, keepConflicts, maxHops }) => {
        const required = new Set([from, to, ...waypoints]);
        const c: PathConstraints = {
          waypoints,
          avoid: keepConflicts ? avoid : avoid.filter((a) => !required.has(a)),
        };
        if (maxHops !== undefined) c.maxHops = maxHops;
        return {
          graph: { processors: NAMES.slice(0, n), links: links.filter((l) => l.a !== l.b) },
          from,
          to,
          c,
        };
      });
  });

interface Optimum {
  cost: number;
  /** Fewest hops among the walks of that cost. */
  hops: number;
}

/**
 * Cheapest walk by exhaustive enumeration of all walks up to a bound length, layer by layer:
 * layer `len` holds, for every (processor, waypoints matched so far), the cheapest walk of
 * exactly `len` links ending there. Walks reaching the same pair are interchangeable for every
 * continuation, so keeping the cheapest per pair loses nothing. Beyond 3(n+1) links no optimal
 * walk exists: with at most 2 waypoints it has at most 3 loop-free legs.
 */
function reference(g: PathGraph, from: string, to: string, c: PathConstraints): Optimum | undefined {
  const n = g.processors.length;
  const bound = Math.min(3 * (n + 1), c.maxHops ?? Number.POSITIVE_INFINITY);
  const wps = c.waypoints.filter((w, i) => i === 0 || c.waypoints[i - 1] !== w);
  const k = wps.length;
  const avoid = new Set(c.avoid);
  if (avoid.has(from)) return undefined;
  const advance = (matched: number, at: string) =>
    matched < k && wps[matched] === at ? matched + 1 : matched;
  const key = (p: string, m: number) => `${p}#${m}`;
  let layer = new Map<string, number>([[key(from, advance(0, from)), 0]]);
  const upLinks = g.links.filter((l) => l.status === 'up');
  let best: Optimum | undefined;
  for (let len = 0; len <= bound; len++) {
    const done = layer.get(key(to, k));
    if (done !== undefined && (best === undefined || done < best.cost)) best = { cost: done, hops: len };
    const next = new Map<string, number>();
    for (const [state, cost] of layer) {
      const [at, m] = state.split('#') as [string, string];
      for (const l of upLinks) {
        const other = l.a === at ? l.b : l.b === at ? l.a : undefined;
        if (other === undefined || avoid.has(other)) continue;
        const s2 = key(other, advance(Number(m), other));
        const c2 = cost + l.cost;
        if (c2 < (next.get(s2) ?? Number.POSITIVE_INFINITY)) next.set(s2, c2);
      }
    }
    layer = next;
  }
  return best;
}

function cheapestLink(g: PathGraph, x: string, y: string): number | undefined {
  const costs = g.links
    .filter((l) => l.status === 'up' && ((l.a === x && l.b === y) || (l.a === y && l.b === x)))
    .map((l) => l.cost);
  return costs.length > 0 ? Math.min(...costs) : undefined;
}

function visitsInOrder(path: string[], waypoints: string[]): boolean {
  let i = 0;
  const wps = waypoints.filter((w, j) => j === 0 || waypoints[j - 1] !== w);
  for (const p of path) if (i < wps.length && wps[i] === p) i++;
  return i === wps.length;
}

function checkAgainstReference(graph: PathGraph, from: string, to: string, c: PathConstraints): PathResult {
  const result = computePath(buildGraph(graph), from, to, c);
  const optimum = reference(graph, from, to, c);
  if (!result.ok) {
    expect(optimum).toBeUndefined();
    return result;
  }
  const { path, cost, hops } = result;
  expect(path[0]).toBe(from);
  expect(path.at(-1)).toBe(to);
  expect(hops).toBe(path.length - 1);
  let sum = 0;
  for (let i = 0; i + 1 < path.length; i++) {
    const linkCost = cheapestLink(graph, path[i]!, path[i + 1]!);
    expect(linkCost).toBeDefined();
    sum += linkCost!;
  }
  expect(cost).toBe(sum);
  expect(visitsInOrder(path, c.waypoints)).toBe(true);
  expect(path.filter((p) => c.avoid.includes(p))).toEqual([]);
  if (c.maxHops !== undefined) expect(hops).toBeLessThanOrEqual(c.maxHops);
  expect(optimum).toEqual({ cost, hops });
  return result;
}

const RUNS = 3000;

describe('computePath properties', () => {
  it('returns a valid, optimal path exactly when one exists', () => {
    fc.assert(
      fc.property(arbCase, ({ graph, from, to, c }) => {
        checkAgainstReference(graph, from, to, c);
      }),
      { numRuns: RUNS },
    );
  });

  it('stays optimal as maxHops tightens below the cheapest path’s hops', () => {
    fc.assert(
      fc.property(arbCase, ({ graph, from, to, c }) => {
        // Random limits rarely bind; squeezing one hop at a time makes the cheaper-but-longer
        // versus dearer-but-shorter trade-off happen on every case that has a path.
        let result = checkAgainstReference(graph, from, to, c);
        while (result.ok && result.hops > 0) {
          result = checkAgainstReference(graph, from, to, { ...c, maxHops: result.hops - 1 });
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('blames the first constraint that, added back, makes the query infeasible', () => {
    fc.assert(
      fc.property(arbCase, ({ graph, from, to, c }) => {
        const result = computePath(buildGraph(graph), from, to, c);
        if (result.ok) return;
        const open = reference(graph, from, to, none);
        const transit = reference(graph, from, to, { waypoints: c.waypoints, avoid: [] });
        const avoiding = reference(graph, from, to, { waypoints: c.waypoints, avoid: c.avoid });
        const conflict = [from, to, ...c.waypoints].some((p) => c.avoid.includes(p));
        switch (result.constraint) {
          case 'no-route':
            expect(open).toBeUndefined();
            break;
          case 'transit':
            expect(open).toBeDefined();
            expect(transit).toBeUndefined();
            break;
          case 'avoid':
            if (!conflict) {
              expect(transit).toBeDefined();
              expect(avoiding).toBeUndefined();
            }
            break;
          case 'maxHops': {
            expect(avoiding).toBeDefined();
            // The fewest hops of any walk honouring transit and avoid, by the same enumeration.
            const fewest = Array.from({ length: 3 * (graph.processors.length + 1) + 1 }, (_, h) => h).find(
              (h) => reference(graph, from, to, { ...c, maxHops: h }) !== undefined,
            );
            expect(result.reason).toContain(`within maxHops ${c.maxHops} (the shortest needs ${fewest})`);
            break;
          }
          case 'unknown-processor':
            throw new Error(`every processor is known here, got: ${result.reason}`);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('answers the same whatever order the topology is listed in, and on a reused graph', () => {
    fc.assert(
      fc.property(arbCase, ({ graph, from, to, c }) => {
        const g = buildGraph(graph);
        const first = computePath(g, from, to, c);
        const reversed = buildGraph({
          processors: [...graph.processors].reverse(),
          links: [...graph.links].reverse(),
        });
        expect(computePath(reversed, from, to, c)).toEqual(first);
        expect(computePath(g, from, to, c)).toEqual(first);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('MinHeap', () => {
  it('pops in (cost, hops) order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })), {
          maxLength: 200,
        }),
        (entries) => {
          const heap = new MinHeap();
          for (const [i, [cost, hops]] of entries.entries()) heap.push(i, cost, hops);
          const popped: [number, number][] = [];
          for (let i = heap.pop(); i !== -1; i = heap.pop()) popped.push(entries[i]!);
          const sorted = [...entries].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
          expect(popped).toEqual(sorted);
        },
      ),
      { numRuns: 300 },
    );
  });
});
