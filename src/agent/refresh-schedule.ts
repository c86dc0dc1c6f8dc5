import type { AgentBundle } from './bundle.js';

/** Never later than this, even with hour-long tickets: a missed event is mended within 5 min. */
export const MAX_REFRESH_MS = 5 * 60_000;
/** Never sooner than this after a refresh: expired tickets (orchestrator down) must not spin. */
export const MIN_REFRESH_MS = 5_000;

/**
 * When the agent fetches its bundle again: at half the shortest remaining life of its tickets,
 * so a ticket is renewed while it still has half its life left — a refresh that fails (the
 * orchestrator restarting) is retried at half of what is then left, and so on, before anything
 * expires. The orchestrator reuses a signed ticket only while it has 3/4 of its lifetime left
 * (tickets/signed-cache.ts), so a fetched ticket always outlives the next refresh.
 */
export function nextRefreshMs(bundle: AgentBundle | undefined, nowMs = Date.now()): number {
  let shortest = Number.POSITIVE_INFINITY;
  for (const c of bundle?.client ?? []) {
    for (const t of c.targets) {
      if (t.expiresAt !== undefined) shortest = Math.min(shortest, t.expiresAt * 1000 - nowMs);
    }
  }
  return Math.min(MAX_REFRESH_MS, Math.max(MIN_REFRESH_MS, shortest / 2));
}
