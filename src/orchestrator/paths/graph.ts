/** The processor topology as the store describes it: undirected links between processors. */
export interface PathGraph {
  processors: string[];
  links: { a: string; b: string; cost: number; status: 'up' | 'down' }[];
}

/**
 * Adjacency of the up links in compressed sparse row form, built once per topology and
 * shared by every query on it.
 *
 * Processors are numbered in sorted name order and each adjacency slice is sorted by
 * neighbour index, so the numbering — and with it every tie-break in the search — depends
 * only on the topology, never on the order in which the store listed it.
 */
export interface Graph {
  readonly size: number;
  readonly names: readonly string[];
  readonly indexOf: ReadonlyMap<string, number>;
  /** Neighbours of `v` are `targets[offsets[v] .. offsets[v + 1])`. */
  readonly offsets: Int32Array;
  readonly targets: Int32Array;
  readonly costs: Float64Array;
  /** Distinct up links after merging parallel ones. */
  readonly linkCount: number;
}

export function buildGraph(g: PathGraph): Graph {
  const names = [...new Set(g.processors)].sort();
  const n = names.length;
  const indexOf = new Map(names.map((name, i) => [name, i] as const));

  // One entry per unordered pair: parallel links collapse to the cheapest, since a route
  // would never pay more for the same hop.
  const cheapest = new Map<number, number>();
  for (const link of g.links) {
    if (link.status !== 'up') continue;
    if (!Number.isFinite(link.cost) || link.cost <= 0) {
      // Dijkstra is only correct with positive costs; the model already forbids this, so it
      // is a caller bug worth failing loudly on.
      throw new RangeError(`link ${link.a}--${link.b} has cost ${link.cost}; costs must be positive`);
    }
    const a = indexOf.get(link.a);
    const b = indexOf.get(link.b);
    // A link to a processor that is not listed (e.g. deleted concurrently) leads nowhere a
    // flow could go, and a self-link never shortens a route.
    if (a === undefined || b === undefined || a === b) continue;
    const key = a < b ? a * n + b : b * n + a;
    const known = cheapest.get(key);
    if (known === undefined || link.cost < known) cheapest.set(key, link.cost);
  }

  const degree = new Int32Array(n + 1);
  for (const key of cheapest.keys()) {
    const lo = Math.floor(key / n);
    degree[lo]!++;
    degree[key - lo * n]!++;
  }
  const offsets = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) offsets[v + 1] = offsets[v]! + degree[v]!;
  const fill = offsets.slice(0, n);
  const targets = new Int32Array(offsets[n]!);
  const costs = new Float64Array(offsets[n]!);
  for (const [key, cost] of cheapest) {
    const lo = Math.floor(key / n);
    const hi = key - lo * n;
    const i = fill[lo]!++;
    targets[i] = hi;
    costs[i] = cost;
    const j = fill[hi]!++;
    targets[j] = lo;
    costs[j] = cost;
  }
  for (let v = 0; v < n; v++) sortSlice(targets, costs, offsets[v]!, offsets[v + 1]!);

  return { size: n, names, indexOf, offsets, targets, costs, linkCount: cheapest.size };
}

/** Sorts one adjacency slice by neighbour, keeping targets and costs paired. */
function sortSlice(targets: Int32Array, costs: Float64Array, from: number, to: number): void {
  if (to - from > 32) {
    // A hub's slice can be long enough for insertion sort's quadratic cost to matter.
    const pairs = Array.from(
      { length: to - from },
      (_, i) => [targets[from + i]!, costs[from + i]!] as const,
    );
    pairs.sort((x, y) => x[0] - y[0]);
    pairs.forEach(([t, c], i) => {
      targets[from + i] = t;
      costs[from + i] = c;
    });
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const t = targets[i]!;
    const c = costs[i]!;
    let j = i - 1;
    while (j >= from && targets[j]! > t) {
      targets[j + 1] = targets[j]!;
      costs[j + 1] = costs[j]!;
      j--;
    }
    targets[j + 1] = t;
    costs[j + 1] = c;
  }
}

/** Hop count that stands for "cannot be reached"; small enough that adding hops never overflows. */
export const UNREACHABLE = 0x3fffffff;

/**
 * Breadth-first hop counts from `src` to every processor over up links, never entering a
 * processor marked in `blocked`. Links are undirected, so these are also the counts *to* `src`.
 */
export function hopDistances(
  g: Graph,
  src: number,
  blocked: Uint8Array | undefined,
  out: Int32Array = new Int32Array(g.size),
  queue: Int32Array = new Int32Array(g.size),
): Int32Array {
  out.fill(UNREACHABLE, 0, g.size);
  const { offsets, targets } = g;
  out[src] = 0;
  queue[0] = src;
  let head = 0;
  let tail = 1;
  while (head < tail) {
    const v = queue[head++]!;
    const next = out[v]! + 1;
    for (let e = offsets[v]!, end = offsets[v + 1]!; e < end; e++) {
      const u = targets[e]!;
      if (out[u] !== UNREACHABLE || (blocked !== undefined && blocked[u] === 1)) continue;
      out[u] = next;
      queue[tail++] = u;
    }
  }
  return out;
}
