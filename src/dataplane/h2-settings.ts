/**
 * HTTP/2 settings of every fabric link (tuned with bench/dataplane; see docs/benchmarks.md).
 * Frames up to 64 KB: a 64 KB socket read crosses a hop as one DATA frame (one JS callback at
 * the receiver) instead of four. Stream windows of 512 KB: enough in flight for one flow at
 * hundreds of MB/s across a loopback hop, while 16 busy flows hold at most 8 MB per hop.
 */
export const H2_SETTINGS = {
  initialWindowSize: 512 * 1024,
  maxFrameSize: 64 * 1024,
  maxConcurrentStreams: 10_000,
};

/** Connection-level receive window: room for several busy flows on one pooled connection. */
export const SESSION_WINDOW = 8 * 1024 * 1024;
