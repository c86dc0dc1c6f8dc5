import { type FabricEventOnWire, ON_REQUEST_EVENTS, type OnRequestEvent } from '../model/events.js';
import type { ChangeScope } from './policy/change-scope.js';

/**
 * What the orchestrator tells agents, processors and the console as it happens: the wire events
 * (model/events.ts) but `hello`, with one field only the orchestrator sees — a policy event's
 * `scope`, whose bundles the change may alter (absent: everyone's). It names other domains'
 * owners, so it is never sent as is: api/events.ts turns it into each agent's own answer.
 */
export type FabricEvent =
  | Exclude<FabricEventOnWire, { type: 'hello' | 'policy' }>
  | (Omit<Extract<FabricEventOnWire, { type: 'policy' }>, 'bundle'> & { scope?: ChangeScope });

type Listener = (e: FabricEvent) => void;

/** What a group of listeners shares (api/peer-filter.ts): one decision per event for all of them. */
export interface EventGate {
  /** Whether any listener of the group may want `e`; false: none of them is called. */
  pass(e: FabricEvent): boolean;
  /** The group's last handle was released. */
  close(): void;
}

interface Group {
  gate: EventGate;
  members: Set<Listener>;
  /** Handles not yet released (a stream holds one from before its hello until it closes). */
  refs: number;
}

/** A stream's place in a group: its gate, and its subscription. */
export interface GroupHandle<G extends EventGate> {
  gate: G;
  /** Starts delivering the group's events to `l` (those its gate passes); returns its stop (release() stops it too). */
  subscribe(l: Listener): () => void;
  /** Stops, and drops the group once no handle is left. */
  release(): void;
}

/** The kind of an event as `?kinds=` names it. */
export type EventKind = FabricEvent['type'];

const onRequest = new Set<string>(ON_REQUEST_EVENTS);

/**
 * In-process publish/subscribe. Listeners must not block: each SSE subscriber writes to its
 * own socket and is dropped if it falls too far behind (see api/events.ts), so one slow
 * reader never holds up the rest.
 *
 * A listener without `kinds` gets every event but the on-request kinds (denials, flow tables):
 * those reach only listeners that named them, so a processor reporting its table every second
 * costs the 1,000 node streams nothing, not even a call each, and the policy snapshot's cache
 * (policy/snapshot.ts drops it on any event it does not know) is not dropped by them.
 */
export class EventHub {
  readonly #listeners = new Set<Listener>();
  readonly #byKind = new Map<EventKind, Set<Listener>>();
  #named = 0;
  readonly #groups = new Map<string, Group>();
  #grouped = 0;

  /**
   * Joins the group `key` (made with `make()` by its first member): listeners of one group get
   * what a listener without `kinds` gets, but only the events its gate passes, asked once per
   * event for the whole group. The workload streams of one host owner share their peers, so
   * while 1,000 agents register a node event costs ~10 gate calls and the calls of the groups
   * it concerns, not 1,000 (api/events.ts).
   */
  group<G extends EventGate>(key: string, make: () => G): GroupHandle<G> {
    let g = this.#groups.get(key);
    if (!g) {
      g = { gate: make(), members: new Set(), refs: 0 };
      this.#groups.set(key, g);
    }
    const group = g;
    group.refs++;
    let member: Listener | undefined;
    let released = false;
    const leave = () => {
      if (member && group.members.delete(member)) this.#grouped--;
    };
    return {
      gate: group.gate as G,
      subscribe: (l) => {
        if (released || member) return leave;
        member = l;
        group.members.add(l);
        this.#grouped++;
        return leave;
      },
      release: () => {
        if (released) return;
        released = true;
        leave();
        if (--group.refs > 0) return;
        group.gate.close();
        if (this.#groups.get(key) === group) this.#groups.delete(key);
      },
    };
  }

  subscribe(l: Listener, kinds?: readonly EventKind[]): () => void {
    if (!kinds) {
      this.#listeners.add(l);
      return () => this.#listeners.delete(l);
    }
    const sets = [...new Set(kinds)].map((k) => {
      const set = this.#byKind.get(k) ?? new Set<Listener>();
      this.#byKind.set(k, set);
      set.add(l);
      return set;
    });
    this.#named++;
    let gone = false;
    return () => {
      if (gone) return false;
      gone = true;
      this.#named--;
      for (const set of sets) set.delete(l);
      return true;
    };
  }

  /** Whether anyone listens for `kind`: what an event costs to build is then worth paying. */
  wants(kind: OnRequestEvent): boolean {
    return (this.#byKind.get(kind)?.size ?? 0) > 0;
  }

  /** In-process recorders (recent health events, metrics): see every event, not counted as subscribers. */
  readonly #taps = new Set<Listener>();

  tap(l: Listener): void {
    this.#taps.add(l);
  }

  /**
   * In-process caches (the policy snapshot): get what a subscriber without `kinds` gets — not
   * the on-request kinds — and are not counted as subscribers (trellis_event_subscribers counts
   * streams; the snapshot's listener made it one too many after the first bundle).
   */
  readonly #watchers = new Set<Listener>();

  watch(l: Listener): void {
    this.#watchers.add(l);
  }

  publish(e: FabricEvent): void {
    for (const l of this.#taps) l(e);
    if (!onRequest.has(e.type)) {
      for (const l of this.#watchers) l(e);
      for (const l of this.#listeners) l(e);
      // Every gate sees every event, members or not yet: a policy event must reload its peers.
      for (const g of this.#groups.values()) if (g.gate.pass(e)) for (const l of g.members) l(e);
    }
    const named = this.#byKind.get(e.type);
    if (named) for (const l of named) l(e);
  }

  get subscribers(): number {
    return this.#listeners.size + this.#named + this.#grouped;
  }
}
