import type { FabricEventOnWire } from '../model/events.js';
import { backoffMs } from '../node/runtime/backoff.js';
import { SseParser } from '../node/runtime/sse.js';
import { currentSession, expire } from './session.js';

/** The orchestrator's events as they arrive (one schema with the orchestrator: model/events.ts). */
export type FabricEvent = FabricEventOnWire;

type Listener = (e: FabricEvent) => void;
const listeners = new Set<Listener>();
let controller: AbortController | null = null;
let statusListener: (live: boolean) => void = () => {};

/** Pages subscribe while they are shown; the stream itself lives as long as the session. */
export function onEvent(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function onStreamStatus(fn: (live: boolean) => void): void {
  statusListener = fn;
}

/**
 * Reads GET /api/v1/events with fetch streaming: EventSource cannot send the bearer token.
 * Reconnects with backoff; every reconnect starts with `hello`, on which pages refetch, so
 * nothing missed while disconnected stays stale.
 */
export function startEvents(): void {
  stopEvents();
  const ctl = new AbortController();
  controller = ctl;
  void (async () => {
    let attempt = 0;
    while (!ctl.signal.aborted) {
      const s = currentSession();
      if (!s) return;
      try {
        const res = await fetch('/api/v1/events', {
          headers: { authorization: `Bearer ${s.token}`, accept: 'text/event-stream' },
          signal: ctl.signal,
        });
        if (res.status === 401) {
          expire();
          return;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        statusListener(true);
        attempt = 0;
        await readStream(res.body);
      } catch {
        if (ctl.signal.aborted) return;
      }
      statusListener(false);
      // Jittered, like the nodes': a restarted orchestrator is not met by every console at once.
      await new Promise((r) => setTimeout(r, backoffMs(attempt++, 500, 10_000)));
    }
  })();
}

export function stopEvents(): void {
  controller?.abort();
  controller = null;
  statusListener(false);
}

async function readStream(body: ReadableStream<Uint8Array>): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    for (const m of parser.push(decoder.decode(value, { stream: true }))) {
      for (const fn of listeners) fn(m.data as FabricEvent);
    }
  }
}
