/**
 * Binary min-heap of integer items ordered by (cost, hops).
 *
 * The search pushes a fresh item instead of decreasing a key and skips stale ones when they
 * surface, which keeps the heap free of position bookkeeping. Ordering by hops after cost
 * prefers the route with fewer hops among equally cheap ones. Remaining ties need no rule of
 * their own: the same pushes and pops always give the same order, so results stay stable.
 */
export class MinHeap {
  private items = new Int32Array(1024);
  private cost = new Float64Array(1024);
  private hops = new Int32Array(1024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Cost of the item `pop` would return next. */
  get minCost(): number {
    return this.count === 0 ? Number.POSITIVE_INFINITY : this.cost[0]!;
  }

  clear(): void {
    this.count = 0;
  }

  push(item: number, cost: number, hops: number): void {
    if (this.count === this.items.length) this.grow();
    const items = this.items;
    const cs = this.cost;
    const hs = this.hops;
    let i = this.count++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pc = cs[parent]!;
      if (pc < cost || (pc === cost && hs[parent]! <= hops)) break;
      items[i] = items[parent]!;
      cs[i] = pc;
      hs[i] = hs[parent]!;
      i = parent;
    }
    items[i] = item;
    cs[i] = cost;
    hs[i] = hops;
  }

  /** Removes and returns the smallest item; -1 when empty. */
  pop(): number {
    if (this.count === 0) return -1;
    const items = this.items;
    const cs = this.cost;
    const hs = this.hops;
    const top = items[0]!;
    const last = --this.count;
    if (last === 0) return top;
    const item = items[last]!;
    const cost = cs[last]!;
    const hops = hs[last]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      let cc = cs[child]!;
      const right = child + 1;
      if (right < last) {
        const rc = cs[right]!;
        if (rc < cc || (rc === cc && hs[right]! < hs[child]!)) {
          child = right;
          cc = rc;
        }
      }
      if (cost < cc || (cost === cc && hops <= hs[child]!)) break;
      items[i] = items[child]!;
      cs[i] = cc;
      hs[i] = hs[child]!;
      i = child;
    }
    items[i] = item;
    cs[i] = cost;
    hs[i] = hops;
    return top;
  }

  private grow(): void {
    const size = this.items.length * 2;
    const items = new Int32Array(size);
    items.set(this.items);
    const cost = new Float64Array(size);
    cost.set(this.cost);
    const hops = new Int32Array(size);
    hops.set(this.hops);
    this.items = items;
    this.cost = cost;
    this.hops = hops;
  }
}
