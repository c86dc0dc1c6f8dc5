/** What the orchestrator tells agents, processors and the console as it happens. */
export type FabricEvent =
  | { type: 'policy'; epoch: number }
  | {
      type: 'node';
      name: string;
      kind: string;
      domain: string;
      status: 'connected' | 'disconnected' | 'deleted';
    };

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

  publish(e: FabricEvent): void {
    for (const l of this.#listeners) l(e);
  }

  get subscribers(): number {
    return this.#listeners.size;
  }
}
