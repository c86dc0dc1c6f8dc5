/**
 * Path computation on a large random topology: `npm run build && npm run bench:paths`.
 * The topology and queries come from a seeded generator, so runs are comparable. The two
 * "binding" lines are a stress test: each query's limit is one hop below what its cheapest
 * path uses, so the hop-limited search runs every time instead of being skipped.
 */
import { performance } from 'node:perf_hooks';
import {
  buildGraph,
  computePath,
  type Graph,
  type PathConstraints,
  type PathGraph,
} from '../src/orchestrator/paths/index.js';
import { seededRandom } from '../test/support/random.js';

const SEED = 20240611;
const PROCESSORS = 10_000;
const LINKS = 50_000;
const QUERIES = 200;
const WARMUP = 30;
const MAX_COST = 100;
const DOWN_RATIO = 0.02;
const MAX_HOPS = 12;
const GOAL_MS = 20;

function topology(rand: () => number): PathGraph {
  const processors = Array.from({ length: PROCESSORS }, (_, i) => `p${String(i).padStart(5, '0')}`);
  const links: PathGraph['links'] = [];
  const seen = new Set<number>();
  const add = (a: number, b: number, status: 'up' | 'down'): void => {
    seen.add(a < b ? a * PROCESSORS + b : b * PROCESSORS + a);
    links.push({ a: processors[a]!, b: processors[b]!, cost: 1 + Math.floor(rand() * MAX_COST), status });
  };
  // A random tree of up links keeps the graph connected whatever the extra links do.
  for (let i = 1; i < PROCESSORS; i++) add(i, Math.floor(rand() * i), 'up');
  while (links.length < LINKS) {
    const a = Math.floor(rand() * PROCESSORS);
    const b = Math.floor(rand() * PROCESSORS);
    if (a === b || seen.has(a < b ? a * PROCESSORS + b : b * PROCESSORS + a)) continue;
    add(a, b, rand() < DOWN_RATIO ? 'down' : 'up');
  }
  return { processors, links };
}

interface Query {
  from: string;
  to: string;
  c: PathConstraints;
}

interface Variant {
  label: string;
  queries: Query[];
}

function variants(rand: () => number, graph: Graph, processors: string[]): Variant[] {
  const pick = (): string => processors[Math.floor(rand() * processors.length)]!;
  const pairs = Array.from({ length: WARMUP + QUERIES }, () => ({
    from: pick(),
    to: pick(),
    waypoints: [pick(), pick()],
  }));
  const plain = (waypoints: string[]) =>
    pairs.map(({ from, to }) => ({ from, to, c: { waypoints, avoid: [] } }));
  const via = pairs.map(({ from, to, waypoints }) => ({ from, to, c: { waypoints, avoid: [] } }));
  const capped = (queries: Query[], maxHops: number) =>
    queries.map((q) => ({ ...q, c: { ...q.c, maxHops } }));
  // The worst case for the hop-limited search: a limit one hop below what the cheapest path
  // uses, so the limit binds on every query and the cheap unlimited answer is never enough.
  const binding = (queries: Query[]) =>
    queries.map((q) => {
      const free = computePath(graph, q.from, q.to, q.c);
      return { ...q, c: { ...q.c, maxHops: free.ok ? Math.max(0, free.hops - 1) : 0 } };
    });
  return [
    { label: 'no waypoints', queries: plain([]) },
    { label: '2 waypoints', queries: via },
    { label: `maxHops ${MAX_HOPS}`, queries: capped(plain([]), MAX_HOPS) },
    { label: `2 waypoints + maxHops ${MAX_HOPS}`, queries: capped(via, MAX_HOPS) },
    { label: 'maxHops binding', queries: binding(plain([])) },
    { label: '2 waypoints + maxHops binding', queries: binding(via) },
  ];
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function main(): void {
  const rand = seededRandom(SEED);
  const topo = topology(rand);
  const t0 = performance.now();
  const graph = buildGraph(topo);
  const buildMs = performance.now() - t0;

  console.log(
    `paths: ${PROCESSORS} processors, ${LINKS} links (${graph.linkCount} up), costs 1..${MAX_COST}, ` +
      `${QUERIES} queries per line after ${WARMUP} warm-up, seed ${SEED}`,
  );
  console.log(`buildGraph: ${buildMs.toFixed(1)} ms`);
  console.log(
    `${'query'.padEnd(30)}${'mean ms'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}` +
      `${'max ms'.padStart(9)}${'found'.padStart(9)}${'goal'.padStart(6)}`,
  );

  const missed: string[] = [];
  for (const { label, queries } of variants(rand, graph, topo.processors)) {
    for (const q of queries.slice(0, WARMUP)) computePath(graph, q.from, q.to, q.c);
    const times: number[] = [];
    let found = 0;
    for (const q of queries.slice(WARMUP)) {
      const start = performance.now();
      const result = computePath(graph, q.from, q.to, q.c);
      times.push(performance.now() - start);
      if (result.ok) found++;
    }
    times.sort((x, y) => x - y);
    const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
    const p99 = percentile(times, 99);
    if (p99 > GOAL_MS) missed.push(label);
    console.log(
      `${label.padEnd(30)}${mean.toFixed(2).padStart(9)}${percentile(times, 50).toFixed(2).padStart(9)}` +
        `${p99.toFixed(2).padStart(9)}${times.at(-1)!.toFixed(2).padStart(9)}${`${found}/${times.length}`.padStart(9)}` +
        `${(p99 <= GOAL_MS ? 'ok' : 'over').padStart(6)}`,
    );
  }
  console.log(
    `goal: p99 <= ${GOAL_MS} ms per query: ` +
      (missed.length === 0 ? 'met on every line' : `missed on ${missed.map((m) => `"${m}"`).join(', ')}`),
  );
}

main();
