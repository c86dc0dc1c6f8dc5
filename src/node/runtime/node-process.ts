/**
 * How a processor's or an agent's node process is started, wherever Trellis starts one (host
 * units under systemd or `trellis supervise`, so the lab and deployments alike; the tests'
 * fabrics). Both settings bound the memory a data-plane node keeps after a burst of traffic;
 * docs/benchmarks.md ("Memory after the run") has the runs that chose them.
 *
 * Neither can be set from inside the process: V8 sizes its young generation when the heap is
 * created, and glibc reads its malloc settings at the first allocation, both before any of our
 * code runs. So they travel with the command line and the environment of the unit.
 */

/**
 * V8's semi-spaces at most 8 MB (Node 20 grows them to 16 MB: 32 MB of young generation kept
 * committed after a transfer). Not smaller: at 4 MB (and 2 MB) the objects of 16 concurrent
 * flows outlived their scavenges and were promoted, and 16-stream throughput fell by a third.
 */
export const NODE_PROCESS_FLAGS: readonly string[] = ['--max-semi-space-size=8'];

/**
 * glibc: the threshold above which an allocation gets its own mapping, returned to the kernel
 * when freed, fixed at glibc's own default (128 KB). Left to itself, glibc raises it each time
 * such a chunk is freed (up to 32 MB) and from then on carves those sizes from its heap, where
 * the holes between longer-lived allocations stay resident after the traffic stops: ~40 MB of
 * a processor's RSS after the benchmark, as `malloc_trim(0)` from a debugger showed. Lower
 * thresholds (32 KB, 16 KB) also mapped every 64 KB socket-read buffer and cost 10-20 % more
 * CPU per GB. Two arenas: a node's other threads (libuv's pool, V8's workers) allocate little,
 * and each arena of their own would keep its own free pages.
 */
export const NODE_PROCESS_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '131072',
  MALLOC_ARENA_MAX: '2',
};
