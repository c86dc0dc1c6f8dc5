import { type Graph, hopDistances, UNREACHABLE } from './graph.js';
import type { Workspace } from './workspace.js';

/** A found path: processor names from source to destination, with its cost and link count. */
export type Found = { ok: true; path: string[]; cost: number; hops: number };

/**
 * Dijkstra from `src` to `dst` over states `s = stage * n + v`: standing on processor `v`
 * with the first `stage` waypoints reached. Processors marked in `ws.blocked` are never
 * entered; the caller marks the avoid list.
 *
 * With a hop limit a state may need several labels — a cheaper one with more hops and a
 * dearer one with fewer — so labels, not states, carry cost and hops, and a label is dropped
 * only when one settled at the same state is no dearer and has no more hops. Several labels
 * per state would let the search flood every stage, so it becomes A*: labels are ordered by
 * cost plus a consistent lower bound on the cost still to go, which steers it along the
 * near-cheapest routes. That bound is the same for every label of one state, so labels of a
 * state still leave the heap in (cost, hops) order and the dominance rule stays sound.
 */
export function search(
  graph: Graph,
  ws: Workspace,
  src: number,
  dst: number,
  waypoints: readonly number[],
  maxHops: number | undefined,
): Found | undefined {
  const n = graph.size;
  const k = waypoints.length;
  ws.begin(n * (k + 1));
  const { blocked, heap, stamp, bestCost, bestHops, settledHops, hopsToGo, costToGo } = ws;
  const { offsets, targets, costs } = graph;
  const bounded = maxHops !== undefined;
  const limit = maxHops ?? UNREACHABLE;
  const startStage = k > 0 && waypoints[0] === src ? 1 : 0;
  if (bounded) {
    fillHopsToGo(graph, ws, dst, waypoints);
    if (hopsToGo[startStage * n + src]! > limit) return undefined;
    fillCostToGo(graph, ws, src, dst, waypoints, limit);
  }
  const target = k * n + dst;
  const start = startStage * n + src;
  ws.touch(start);
  bestCost[start] = 0;
  bestHops[start] = 0;
  heap.push(ws.addLabel(start, 0, 0, -1), bounded ? costToGo[start]! : 0, 0);

  for (let l = heap.pop(); l !== -1; l = heap.pop()) {
    const s = ws.labelState[l]!;
    const hops = ws.labelHops[l]!;
    const cost = ws.labelCost[l]!;
    // Labels leave the heap in (cost, hops) order, so an earlier settled label here is no
    // dearer; it dominates this one unless this one has fewer hops and hops are limited.
    if (settledHops[s] !== UNREACHABLE && (!bounded || hops >= settledHops[s]!)) continue;
    settledHops[s] = hops;
    if (s === target) return reconstruct(graph, ws, l);

    const v = s % n;
    const stage = (s - v) / n;
    const nextWaypoint = stage < k ? waypoints[stage]! : -1;
    const h = hops + 1;
    for (let e = offsets[v]!, end = offsets[v + 1]!; e < end; e++) {
      const u = targets[e]!;
      if (blocked[u] === 1) continue;
      const s2 = u === nextWaypoint ? s + n + (u - v) : s + (u - v);
      if (bounded && h + hopsToGo[s2]! > limit) continue;
      const c2 = cost + costs[e]!;
      if (stamp[s2] !== ws.generation) ws.touch(s2);
      else {
        if (settledHops[s2] !== UNREACHABLE && (!bounded || h >= settledHops[s2]!)) continue;
        const bc = bestCost[s2]!;
        const bh = bestHops[s2]!;
        const improves = c2 < bc || (c2 === bc && h < bh);
        if (!improves && (!bounded || h >= bh)) continue;
        if (!improves) {
          // Dearer but shorter: only useful because of the hop limit; keep the best as is.
          heap.push(ws.addLabel(s2, h, c2, l), bounded ? c2 + costToGo[s2]! : c2, h);
          continue;
        }
      }
      bestCost[s2] = c2;
      bestHops[s2] = h;
      heap.push(ws.addLabel(s2, h, c2, l), bounded ? c2 + costToGo[s2]! : c2, h);
    }
  }
  return undefined;
}

/**
 * Least cost from every state to the destination with avoid honoured, computed by one
 * Dijkstra per stop over only the processors a path within the limit can pass in that stage
 * (fewest hops to get there plus fewest hops to finish fit the limit). Every feasible
 * completion stays among those processors, so the values never overestimate and are
 * consistent, as A* needs; the restriction makes them tighter and, when the limit is tight,
 * much cheaper to compute. States outside get infinity; the hop test prunes them anyway.
 */
function fillCostToGo(
  graph: Graph,
  ws: Workspace,
  src: number,
  dst: number,
  waypoints: readonly number[],
  limit: number,
): void {
  const n = graph.size;
  const k = waypoints.length;
  const { hopsToGo, viable } = ws;
  const fromSrc = hopDistances(graph, src, ws.blocked, ws.distances, ws.queue);
  // Fewest hops to reach stage w's first processor (src, then each waypoint in turn); within
  // stage w >= 1 the hops from its first processor are hopsToGo[w-1] minus what remains there.
  const reach = [0];
  for (let w = 1; w <= k; w++) {
    const entry = waypoints[w - 1]!;
    reach.push(reach[w - 1]! + legHops(w - 1, entry));
  }
  function legHops(stage: number, v: number): number {
    if (stage === 0) return fromSrc[v]!;
    const togo = hopsToGo[(stage - 1) * n + v]!;
    if (togo === UNREACHABLE) return UNREACHABLE;
    return togo - hopsToGo[stage * n + waypoints[stage - 1]!]!;
  }
  for (let stage = k; stage >= 0; stage--) {
    for (let v = 0; v < n; v++) {
      const there = legHops(stage, v);
      const rest = hopsToGo[stage * n + v]!;
      viable[v] =
        there !== UNREACHABLE && rest !== UNREACHABLE && reach[stage]! + there + rest <= limit ? 1 : 0;
    }
    const slice = ws.costToGo.subarray(stage * n, (stage + 1) * n);
    const stop = stage === k ? dst : waypoints[stage]!;
    const after = stage === k ? 0 : ws.costToGo[(stage + 1) * n + stop]!;
    costDistances(graph, ws, stop, slice);
    if (after !== 0) for (let v = 0; v < n; v++) slice[v] = slice[v]! + after;
  }
}

/** Dijkstra from `src` over the whole graph, entering only processors marked in `ws.viable`. */
function costDistances(graph: Graph, ws: Workspace, src: number, out: Float64Array): void {
  const { offsets, targets, costs } = graph;
  const { heap, viable } = ws;
  out.fill(Number.POSITIVE_INFINITY);
  out[src] = 0;
  heap.clear();
  heap.push(src, 0, 0);
  while (heap.size > 0) {
    const d = heap.minCost;
    const v = heap.pop();
    if (d > out[v]!) continue;
    for (let e = offsets[v]!, end = offsets[v + 1]!; e < end; e++) {
      const u = targets[e]!;
      const d2 = d + costs[e]!;
      if (d2 < out[u]! && viable[u] === 1) {
        out[u] = d2;
        heap.push(u, d2, 0);
      }
    }
  }
  heap.clear();
}

/**
 * Exact fewest hops from every state to the destination with avoid honoured: for the last
 * stage the hop distance to `dst`, for earlier stages the distance to the next waypoint plus
 * what remains from there. It prunes every label that could not finish within the limit.
 */
function fillHopsToGo(graph: Graph, ws: Workspace, dst: number, waypoints: readonly number[]): void {
  const n = graph.size;
  const k = waypoints.length;
  for (let stage = k; stage >= 0; stage--) {
    const slice = ws.hopsToGo.subarray(stage * n, (stage + 1) * n);
    if (stage === k) {
      hopDistances(graph, dst, ws.blocked, slice, ws.queue);
      continue;
    }
    const w = waypoints[stage]!;
    const rest = ws.hopsToGo[(stage + 1) * n + w]!;
    if (rest === UNREACHABLE) {
      slice.fill(UNREACHABLE);
      continue;
    }
    hopDistances(graph, w, ws.blocked, slice, ws.queue);
    for (let v = 0; v < n; v++) if (slice[v] !== UNREACHABLE) slice[v] = slice[v]! + rest;
  }
}

function reconstruct(graph: Graph, ws: Workspace, last: number): Found {
  const n = graph.size;
  const path: string[] = [];
  for (let l = last; l !== -1; l = ws.labelPrev[l]!) path.push(graph.names[ws.labelState[l]! % n]!);
  path.reverse();
  return { ok: true, path, cost: ws.labelCost[last]!, hops: ws.labelHops[last]! };
}

/**
 * Fewest links any path through `stops` in order can take with the blocked processors
 * avoided: legs are independent when only hops count. UNREACHABLE or more when none exists.
 */
export function fewestHops(graph: Graph, ws: Workspace, stops: readonly number[]): number {
  let total = 0;
  for (let i = 0; i + 1 < stops.length; i++) {
    const s = stops[i]!;
    const t = stops[i + 1]!;
    if (s === t) continue;
    const hops = hopDistances(graph, s, ws.blocked, ws.distances, ws.queue)[t]!;
    if (hops === UNREACHABLE) return UNREACHABLE;
    total += hops;
  }
  return total;
}
