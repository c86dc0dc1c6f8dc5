/**
 * HTTP/2 settings of every fabric link (tuned with bench/dataplane; see docs/benchmarks.md):
 * stream windows of 1 MB keep a fast sender moving
 * without letting one flow buffer much memory per hop.
 */
export const H2_SETTINGS = {
  initialWindowSize: 1024 * 1024,
  maxFrameSize: 16 * 1024,
  maxConcurrentStreams: 10_000,
};

/** Connection-level receive window: room for several busy flows on one pooled connection. */
export const SESSION_WINDOW = 8 * 1024 * 1024;
