import type { Duplex } from 'node:stream';

export interface Counters {
  packets: number;
  bytes: number;
  lastActive: number;
}

/**
 * Joins two streams both ways: backpressure via pipe(), half-close propagated (end on one
 * side ends the other's write side), either side's error destroys both. The only per-chunk
 * work is the counter update the flow tables need.
 */
export function splice(a: Duplex, b: Duplex, counters: Counters, onClose: () => void): void {
  const count = (chunk: Buffer) => {
    counters.packets++;
    counters.bytes += chunk.length;
    counters.lastActive = Date.now();
  };
  a.on('data', count);
  b.on('data', count);
  a.pipe(b);
  b.pipe(a);
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
