import type { Principal } from './principal.js';
import { tokenHash } from './sessions.js';

interface Held {
  principal: Principal;
  close: () => void;
}

/**
 * Event streams still open, by the token that opened them. A stream is authenticated once,
 * when it opens; without this a revoked (say, stolen) token would keep receiving events, and
 * keep its node shown connected, for as long as it held the stream.
 */
export class OpenStreams {
  readonly #byToken = new Map<string, Set<Held>>();

  /** Registers a stream; the returned function forgets it (call it when the stream closes). */
  hold(token: string, principal: Principal, close: () => void): () => void {
    const key = tokenHash(token);
    const held: Held = { principal, close };
    let set = this.#byToken.get(key);
    if (!set) {
      set = new Set();
      this.#byToken.set(key, set);
    }
    set.add(held);
    return () => {
      set.delete(held);
      if (set.size === 0 && this.#byToken.get(key) === set) this.#byToken.delete(key);
    };
  }

  /** Cuts the streams of one token (logout). */
  closeToken(token: string): void {
    for (const h of [...(this.#byToken.get(tokenHash(token)) ?? [])]) h.close();
  }

  /** Cuts the streams of every token whose principal matches (session revocation). */
  closeWhere(match: (p: Principal) => boolean): void {
    for (const set of [...this.#byToken.values()])
      for (const h of [...set]) if (match(h.principal)) h.close();
  }
}
