import { type Graph, hopDistances, UNREACHABLE } from './graph.js';
import { fail, listOf, type PathFailure } from './result.js';

/** A query with names resolved to processor indices and waypoints already collapsed. */
export interface ResolvedQuery {
  src: number;
  dst: number;
  waypoints: readonly number[];
  avoid: readonly number[];
  maxHops: number | undefined;
}

/**
 * Explains why no path satisfies `q`: relax every constraint, then add them back in the order
 * transit, avoid, maxHops, and blame the first one that makes the query infeasible.
 *
 * Feasibility needs no costs. Without a hop limit the legs between consecutive stops are
 * independent, so breadth-first reachability per leg decides each step exactly, and the sum
 * of the legs' hop counts is the fewest hops any path honouring transit and avoid can take.
 */
export function diagnose(g: Graph, q: ResolvedQuery): PathFailure {
  const name = (i: number): string => g.names[i]!;
  const from = name(q.src);
  const to = name(q.dst);
  const via = q.waypoints.length > 0 ? ` via ${listOf(q.waypoints.map(name))}` : '';

  const open = hopDistances(g, q.src, undefined);
  if (open[q.dst] === UNREACHABLE) return fail('no-route', `no path from ${from} to ${to} over up links`);
  for (const w of q.waypoints) {
    if (open[w] === UNREACHABLE) {
      return fail('transit', `transit ${name(w)} cannot be reached from ${from} over up links`);
    }
  }

  const blocked = new Uint8Array(g.size);
  for (const a of q.avoid) blocked[a] = 1;
  const stops = [q.src, ...q.waypoints, q.dst];
  let fewest = 0;
  for (let i = 0; i + 1 < stops.length; i++) {
    const s = stops[i]!;
    const t = stops[i + 1]!;
    if (s === t) continue;
    const hops = hopDistances(g, s, blocked)[t]!;
    if (hops === UNREACHABLE) {
      const leg = stops.length > 2 ? ` (on the way from ${from} to ${to}${via})` : '';
      return fail('avoid', `${avoidReason(g, s, t, q.avoid)}${leg}`);
    }
    fewest += hops;
  }

  if (q.maxHops !== undefined && fewest > q.maxHops) {
    const avoiding = q.avoid.length > 0 ? ` avoiding ${listOf(q.avoid.map(name))}` : '';
    return fail(
      'maxHops',
      `no path from ${from} to ${to}${via}${avoiding} within maxHops ${q.maxHops} (the shortest needs ${fewest})`,
    );
  }
  // Unreachable while the search is exact; kept so a bug surfaces as a refusal, not a crash.
  return fail('no-route', `no path from ${from} to ${to}${via} satisfies the path constraints`);
}

/** Names the avoided processors that alone cut `s` from `t`, if any; otherwise the whole list. */
function avoidReason(g: Graph, s: number, t: number, avoid: readonly number[]): string {
  const name = (i: number): string => g.names[i]!;
  const only = new Uint8Array(g.size);
  const cuts: number[] = [];
  for (const a of avoid) {
    only[a] = 1;
    if (hopDistances(g, s, only)[t] === UNREACHABLE) cuts.push(a);
    only[a] = 0;
  }
  if (cuts.length === 1)
    return `every path from ${name(s)} to ${name(t)} passes through avoided processor ${name(cuts[0]!)}`;
  if (cuts.length > 1) {
    return `every path from ${name(s)} to ${name(t)} passes through avoided processors ${listOf(cuts.map(name))}`;
  }
  return `avoid ${listOf(avoid.map(name))} leaves no path from ${name(s)} to ${name(t)}`;
}
