import { UNREACHABLE_AFTER_MS } from '../node/runtime/beat.js';
import type { Orchestrator } from './context.js';
import { nodeStatusChanged } from './node-status.js';
import { markReachable, markUnreachable } from './store/repos/nodes.js';

/**
 * A node that holds its event stream open but stops answering (SIGSTOP, a wedged event loop,
 * a VM frozen by its hypervisor) keeps its TCP connection: the kernel still ACKs, so the
 * stream alone never notices. Every node therefore also beats (POST …/heartbeat) every
 * BEAT_MS while its stream is open; one whose stream is open but whose beats stop for
 * UNREACHABLE_AFTER_MS is marked `unreachable` — paths avoid it (a processor: epoch bump;
 * a server instance: its peers' bundles drop it) — and `connected` again at its next beat.
 *
 * The orchestrator judges, not the node's peers: a peer's report could be forged by any host
 * owner to steer traffic away from a processor, while the orchestrator's own clock and the
 * node's authenticated beats can only be faked by the node itself.
 */
const SWEEP_MS = 500;

/** How often a stream-holding node's beats reach the store (its `lastSeen`): not every beat. */
const TOUCH_EVERY_MS = 5_000;

interface Liveness {
  /** Node name → when its last beat arrived (ms): kept in memory, not written per beat. */
  beats: Map<string, number>;
  /** Node name → when its `lastSeen` was last written. */
  touched: Map<string, number>;
}

const state = new WeakMap<Orchestrator, Liveness>();

function of(o: Orchestrator): Liveness {
  let l = state.get(o);
  if (!l) {
    l = { beats: new Map(), touched: new Map() };
    state.set(o, l);
  }
  return l;
}

/** A beat arrived from `name`: record it, and bring it back if it was marked unreachable. */
export async function recordBeat(o: Orchestrator, name: string): Promise<void> {
  of(o).beats.set(name, Date.now());
  const back = await markReachable(o.db, name);
  if (back.length === 0) return;
  o.log.info({ node: name }, 'node answers again: connected');
  await nodeStatusChanged(o, back, 'connected');
}

/** Whether this beat should also refresh the node's `lastSeen` in the store (every TOUCH_EVERY_MS). */
export function touchDue(o: Orchestrator, name: string, now = Date.now()): boolean {
  const l = of(o);
  if (now - (l.touched.get(name) ?? 0) < TOUCH_EVERY_MS) return false;
  l.touched.set(name, now);
  return true;
}

/** Its event stream closed: it is disconnected (handled there), no longer judged by beats. */
export function forgetBeats(o: Orchestrator, name: string): void {
  of(o).beats.delete(name);
  of(o).touched.delete(name);
}

/** Which stream-holding nodes have been silent too long (pure: for the sweep and its test). */
export function silentNodes(
  beats: ReadonlyMap<string, number>,
  live: ReadonlyMap<string, number>,
  now: number,
): string[] {
  const out: string[] = [];
  // Only nodes that beat at all are judged: a node that never sent one (an older release)
  // keeps the stream-only liveness it had.
  for (const [name, at] of beats) if (live.has(name) && now - at > UNREACHABLE_AFTER_MS) out.push(name);
  return out;
}

/** Starts the sweep; returns its stop. */
export function startLivenessSweep(o: Orchestrator): () => void {
  const l = of(o);
  let due = Date.now() + SWEEP_MS;
  const timer = setInterval(() => {
    const now = Date.now();
    const late = now - due;
    due = now + SWEEP_MS;
    // Our own event loop stalled: beats that arrived meanwhile are still queued unread, so
    // judging now would mark live nodes. The next round, after they are read, judges.
    if (late > SWEEP_MS || o.closing) return;
    const silent = silentNodes(l.beats, o.liveStreams, now);
    if (silent.length === 0) return;
    void markUnreachable(o.db, silent)
      .then(async (nodes) => {
        if (nodes.length === 0) return;
        o.log.warn(
          { nodes: nodes.map((n) => n.name), afterMs: UNREACHABLE_AFTER_MS },
          'nodes stopped answering: unreachable',
        );
        await nodeStatusChanged(o, nodes, 'unreachable');
      })
      .catch((err: unknown) => o.log.warn({ err }, 'liveness sweep failed'));
  }, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
