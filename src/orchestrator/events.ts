import type { FabricEventOnWire } from '../model/events.js';
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

/**
 * In-process publish/subscribe. Listeners must not block: each SSE subscriber writes to its
 * own socket and is dropped if it falls too far behind (see api/events.ts), so one slow
 * reader never holds up the rest.
 */
export class EventHub {
  readonly #listeners = new Set<Listener>();

  subscribe(l: Listener): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /** In-process recorders (recent health events): see every event, not counted as subscribers. */
  readonly #taps = new Set<Listener>();

  tap(l: Listener): void {
    this.#taps.add(l);
  }

  publish(e: FabricEvent): void {
    for (const l of this.#taps) l(e);
    for (const l of this.#listeners) l(e);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }
}
