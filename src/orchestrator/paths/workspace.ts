import type { Graph } from './graph.js';
import { UNREACHABLE } from './graph.js';
import { MinHeap } from './heap.js';

/**
 * Per-graph scratch space, reused across queries so a query allocates nothing proportional to
 * the graph. State arrays are valid only where `stamp` equals the current generation, which
 * spares clearing them between queries.
 */
export class Workspace {
  readonly heap = new MinHeap();
  readonly blocked: Uint8Array;
  readonly queue: Int32Array;
  readonly distances: Int32Array;
  readonly viable: Uint8Array;
  stamp = new Uint32Array(0);
  generation = 0;
  /** Best (cost, hops) pushed so far per state, to skip pushes that cannot win. */
  bestCost = new Float64Array(0);
  bestHops = new Int32Array(0);
  /** Fewest hops among the labels settled per state; UNREACHABLE when none is settled. */
  settledHops = new Int32Array(0);
  /** Fewest hops still needed from a state to the destination (only with maxHops). */
  hopsToGo = new Int32Array(0);
  /** Least cost still needed from a state to the destination, hops aside (only with maxHops). */
  costToGo = new Float64Array(0);
  // Labels: one per pushed (state, hops, cost) with a back-pointer for the path.
  labelState = new Int32Array(1024);
  labelHops = new Int32Array(1024);
  labelCost = new Float64Array(1024);
  labelPrev = new Int32Array(1024);
  labels = 0;

  constructor(n: number) {
    this.blocked = new Uint8Array(n);
    this.queue = new Int32Array(n);
    this.distances = new Int32Array(n);
    this.viable = new Uint8Array(n);
  }

  begin(states: number): void {
    if (this.stamp.length < states) {
      this.stamp = new Uint32Array(states);
      this.bestCost = new Float64Array(states);
      this.bestHops = new Int32Array(states);
      this.settledHops = new Int32Array(states);
      this.hopsToGo = new Int32Array(states);
      this.costToGo = new Float64Array(states);
      this.generation = 0;
    }
    if (++this.generation === 0xffffffff) {
      this.stamp.fill(0);
      this.generation = 1;
    }
    this.labels = 0;
    this.heap.clear();
  }

  touch(s: number): void {
    if (this.stamp[s] === this.generation) return;
    this.stamp[s] = this.generation;
    this.bestCost[s] = Number.POSITIVE_INFINITY;
    this.bestHops[s] = UNREACHABLE;
    this.settledHops[s] = UNREACHABLE;
  }

  addLabel(state: number, hops: number, cost: number, prev: number): number {
    if (this.labels === this.labelState.length) this.growLabels();
    const l = this.labels++;
    this.labelState[l] = state;
    this.labelHops[l] = hops;
    this.labelCost[l] = cost;
    this.labelPrev[l] = prev;
    return l;
  }

  private growLabels(): void {
    const size = this.labelState.length * 2;
    const state = new Int32Array(size);
    state.set(this.labelState);
    const hops = new Int32Array(size);
    hops.set(this.labelHops);
    const cost = new Float64Array(size);
    cost.set(this.labelCost);
    const prev = new Int32Array(size);
    prev.set(this.labelPrev);
    this.labelState = state;
    this.labelHops = hops;
    this.labelCost = cost;
    this.labelPrev = prev;
  }
}

const workspaces = new WeakMap<Graph, Workspace>();

export function workspaceFor(graph: Graph): Workspace {
  let ws = workspaces.get(graph);
  if (ws === undefined) {
    ws = new Workspace(graph.size);
    workspaces.set(graph, ws);
  }
  return ws;
}
