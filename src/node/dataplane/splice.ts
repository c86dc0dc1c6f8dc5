import type { Duplex } from 'node:stream';

export interface Counters {
  packets: number;
  bytes: number;
  lastActive: number;
}

/** Called once per chunk that crosses the splice; `fromA`: it went from a to b. */
export type ChunkWatcher = (bytes: number, fromA: boolean) => void;

/** A watcher that keeps a flow-table entry's counters. */
export function countInto(counters: Counters): ChunkWatcher {
  return (bytes) => {
    counters.packets++;
    counters.bytes += bytes;
    counters.lastActive = Date.now();
  };
}

/**
 * Joins two streams both ways: backpressure (a full writer pauses its source until it drains),
 * half-close propagated (end on one side ends the other's write side), either side's error
 * destroys both. One 'data' listener per side does the forwarding and the counting — pipe()
 * plus a counting listener (plus the agent's own statistics listener) cost two or three JS
 * callbacks per chunk, and at ~16 KB per chunk that is per-byte work on a CPU-bound machine.
 */
export function splice(a: Duplex, b: Duplex, watch: ChunkWatcher, onClose: () => void): void {
  forward(a, b, watch, true);
  forward(b, a, watch, false);
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    a.destroy();
    b.destroy();
    onClose();
  };
  a.on('error', close);
  b.on('error', close);
  a.on('close', close);
  b.on('close', close);
}

function forward(from: Duplex, to: Duplex, watch: ChunkWatcher, fromA: boolean): void {
  from.on('data', (chunk: Buffer) => {
    watch(chunk.length, fromA);
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
}
