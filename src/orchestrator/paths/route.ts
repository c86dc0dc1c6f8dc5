import { collapseRepeats, type PathConstraints } from './constraints.js';
import { diagnose } from './diagnose.js';
import type { Graph } from './graph.js';
import { visitedAndAvoided } from './params-check.js';
import { fail, type PathResult } from './result.js';
import { type Found, fewestHops, search } from './search.js';
import { type Workspace, workspaceFor } from './workspace.js';

/**
 * Cheapest path from `from` to `to` over up links that visits `c.waypoints` in order, never
 * enters a processor in `c.avoid`, and traverses at most `c.maxHops` links when that is set.
 *
 * It is Dijkstra over states (processor, number of waypoints reached), so a path may pass a
 * processor again after reaching a waypoint — a leaf transit is reached and left the same
 * way — but never within one leg, where a loop would only add cost. Among equally cheap paths
 * the one with fewer hops wins. Any tie left is settled by the search's fixed order over the
 * processors numbered by name, so one topology always yields the same path, however listed.
 */
export function computePath(graph: Graph, from: string, to: string, c: PathConstraints): PathResult {
  const src = graph.indexOf.get(from);
  if (src === undefined) return fail('unknown-processor', `unknown processor "${from}" as the source`);
  const dst = graph.indexOf.get(to);
  if (dst === undefined) return fail('unknown-processor', `unknown processor "${to}" as the destination`);
  const waypointNames = collapseRepeats(c.waypoints);
  const waypoints: number[] = [];
  for (const w of waypointNames) {
    const i = graph.indexOf.get(w);
    if (i === undefined) return fail('unknown-processor', `unknown processor "${w}" in transit`);
    waypoints.push(i);
  }
  // An avoided processor that does not exist is avoided by every path already; refusing
  // flows over it would turn deleting a processor into an outage.
  const avoid = [...new Set(c.avoid)].flatMap((a) => graph.indexOf.get(a) ?? []);
  const avoided = new Set(c.avoid);
  if (avoided.has(from)) return fail('avoid', `source ${from} is in avoid, so no path can start there`);
  if (avoided.has(to)) return fail('avoid', `destination ${to} is in avoid, so no path can end there`);
  for (const w of waypointNames) {
    if (avoided.has(w)) {
      return fail('avoid', visitedAndAvoided(w));
    }
  }
  if (c.maxHops !== undefined && !(Number.isInteger(c.maxHops) && c.maxHops >= 0)) {
    throw new RangeError(`maxHops must be a non-negative integer, got ${c.maxHops}`);
  }

  const ws = workspaceFor(graph);
  for (const a of avoid) ws.blocked[a] = 1;
  try {
    const found = route(graph, ws, [src, ...waypoints, dst], c.maxHops);
    if (found !== undefined) return found;
  } finally {
    for (const a of avoid) ws.blocked[a] = 0;
  }
  return diagnose(graph, { src, dst, waypoints, avoid, maxHops: c.maxHops });
}

/**
 * Picks the cheapest way to an exact answer. The hop limit is the only constraint that couples
 * the legs between consecutive stops, and it usually does not bind, so: refuse at once when
 * even the fewest hops exceed it; otherwise solve without it, leg by leg, and keep that
 * answer if it fits — the optimum of a relaxation that happens to be feasible is optimal.
 * Only when the limit really binds does the product-state search with hop labels run.
 */
function route(graph: Graph, ws: Workspace, stops: number[], maxHops: number | undefined): Found | undefined {
  if (maxHops !== undefined && fewestHops(graph, ws, stops) > maxHops) return undefined;
  const free = searchLegs(graph, ws, stops);
  if (free === undefined || maxHops === undefined || free.hops <= maxHops) return free;
  return search(graph, ws, stops[0]!, stops.at(-1)!, stops.slice(1, -1), maxHops);
}

/**
 * Without a hop limit nothing ties one leg to the next, so the best path over the product
 * states is the best path of each leg joined end to end — (cost, hops) add up leg by leg.
 * Searching the legs apart lets each stop at its own target instead of growing every stage
 * across the whole graph, which makes waypoint queries on large topologies several times faster.
 */
function searchLegs(graph: Graph, ws: Workspace, stops: readonly number[]): Found | undefined {
  const path = [graph.names[stops[0]!]!];
  let cost = 0;
  let hops = 0;
  for (let i = 0; i + 1 < stops.length; i++) {
    const leg = search(graph, ws, stops[i]!, stops[i + 1]!, [], undefined);
    if (leg === undefined) return undefined;
    for (let j = 1; j < leg.path.length; j++) path.push(leg.path[j]!);
    cost += leg.cost;
    hops += leg.hops;
  }
  return { ok: true, path, cost, hops };
}
