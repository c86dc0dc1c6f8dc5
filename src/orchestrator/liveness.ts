import { UNREACHABLE_AFTER_MS } from '../node/runtime/beat.js';
import type { Orchestrator } from './context.js';
import { nodeStatusChanged } from './node-status.js';
import { markReachable, markUnreachable, touchNodes } from './store/repos/nodes.js';

/**
 * A node that holds its event stream open but stops answering (SIGSTOP, a wedged event loop,
 * a VM frozen by its hypervisor) keeps its TCP connection: the kernel still ACKs, so the
 * stream alone never notices. Every node therefore also beats every BEAT_MS while its stream
 * is open — one byte on its beat stream (api/beats.ts), or a POST …/heartbeat from a release
 * without it; one whose stream is open but whose beats stop for UNREACHABLE_AFTER_MS is marked
 * `unreachable` — paths avoid it (a processor: epoch bump; a server instance: its peers'
 * bundles drop it) — and `connected` again at its next beat.
 *
 * A beat costs no store query: its time is kept here, `lastSeen` is written for all the nodes
 * heard from in one UPDATE every TOUCH_EVERY_MS, and the store is asked to mark a node
 * reachable only when this sweep has marked it unreachable (`suspect`).
 *
 * The orchestrator judges, not the node's peers: a peer's report could be forged by any host
 * owner to steer traffic away from a processor, while the orchestrator's own clock and the
 * node's authenticated beats can only be faked by the node itself.
 */
const SWEEP_MS = 500;

/** How often the beating nodes' `lastSeen` reaches the store: one UPDATE for all of them. */
const TOUCH_EVERY_MS = 5_000;

interface Liveness {
  /** Node name → when its last beat arrived (ms): kept in memory, not written per beat. */
  beats: Map<string, number>;
  /** Nodes heard from since `lastSeen` was last written. */
  heard: Set<string>;
  /**
   * Nodes this sweep sent to the store as unreachable (from the moment it decided, before the
   * UPDATE returns): a beat from one of them asks the store to mark it connected again. The
   * store's queue runs that after the sweep's UPDATE, so a beat racing the sweep is not lost.
   */
  suspect: Set<string>;
}

const state = new WeakMap<Orchestrator, Liveness>();

function of(o: Orchestrator): Liveness {
  let l = state.get(o);
  if (!l) {
    l = { beats: new Map(), heard: new Set(), suspect: new Set() };
    state.set(o, l);
  }
  return l;
}

/** A beat arrived from `name` (it holds its event stream): record it, and bring it back if it was marked unreachable. */
export async function recordBeat(o: Orchestrator, name: string): Promise<void> {
  const l = of(o);
  l.beats.set(name, Date.now());
  l.heard.add(name);
  if (!l.suspect.delete(name)) return;
  const back = await markReachable(o.db, name);
  if (back.length === 0) return;
  o.log.info({ node: name }, 'node answers again: connected');
  await nodeStatusChanged(o, back, 'connected');
}

/** Its event stream closed: it is disconnected (handled there), no longer judged by beats. */
export function forgetBeats(o: Orchestrator, name: string): void {
  const l = of(o);
  l.beats.delete(name);
  l.heard.delete(name);
  l.suspect.delete(name);
}

/** Writes the `lastSeen` of every node heard from since the last call, in one UPDATE. */
async function flushLastSeen(o: Orchestrator): Promise<void> {
  const l = of(o);
  if (l.heard.size === 0) return;
  const names = [...l.heard];
  l.heard.clear();
  await touchNodes(o.db, names, new Date());
}

/** Which stream-holding nodes have been silent too long (pure: for the sweep and its test). */
export function silentNodes(
  beats: ReadonlyMap<string, number>,
  live: ReadonlyMap<string, unknown>,
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
  let touchAt = Date.now() + TOUCH_EVERY_MS;
  const timer = setInterval(() => {
    const now = Date.now();
    const late = now - due;
    due = now + SWEEP_MS;
    if (now >= touchAt && !o.closing) {
      touchAt = now + TOUCH_EVERY_MS;
      void flushLastSeen(o).catch((err: unknown) => o.log.warn({ err }, 'writing lastSeen failed'));
    }
    // Our own event loop stalled: beats that arrived meanwhile are still queued unread, so
    // judging now would mark live nodes. The next round, after they are read, judges.
    if (late > SWEEP_MS || o.closing) return;
    const silent = silentNodes(l.beats, o.liveStreams, now);
    if (silent.length === 0) return;
    for (const name of silent) l.suspect.add(name);
    // How long they have been silent, for the log: just past the window (beats read late) and
    // far past it (beat streams gone) are different faults.
    const silentMs = silent.map((name) => now - (l.beats.get(name) ?? now));
    void markUnreachable(o.db, silent)
      .then(async (nodes) => {
        if (nodes.length === 0) return;
        o.log.warn(
          {
            nodes: nodes.map((n) => n.name),
            afterMs: UNREACHABLE_AFTER_MS,
            silentMs: { min: Math.min(...silentMs), max: Math.max(...silentMs) },
            sweepLateMs: late,
          },
          'nodes stopped answering: unreachable',
        );
        await nodeStatusChanged(o, nodes, 'unreachable');
      })
      .catch((err: unknown) => o.log.warn({ err }, 'liveness sweep failed'));
  }, SWEEP_MS);
  timer.unref();
  return () => clearInterval(timer);
}
