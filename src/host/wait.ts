import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Readiness probes for lab processes: a port that accepts, a URL that answers, a file that exists. */

export type Probe = () => Promise<boolean>;

/** A probe of an endpoint as units write it: `HOST:PORT`, `[V6]:PORT`. */
export function endpointOpen(endpoint: string): Probe {
  const colon = endpoint.lastIndexOf(':');
  return tcpOpen(endpoint.slice(0, colon).replace(/^\[|\]$/g, ''), Number(endpoint.slice(colon + 1)));
}

export function tcpOpen(host: string, port: number): Probe {
  return () =>
    new Promise((resolve) => {
      const socket = connect({ host, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1_000, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
}

export function httpOk(url: string): Probe {
  return async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  };
}

export function fileExists(path: string): Probe {
  return async () => {
    try {
      await access(path);
      return true;
    } catch {
      return false;
    }
  };
}

/**
 * Polls `probe` until it passes. Gives up after `timeoutMs`, or as soon as `failed()` says the
 * process being waited for has died — waiting out the timeout would only delay the error.
 */
export async function waitUntil(
  probe: Probe,
  opts: { timeoutMs: number; failed?: () => boolean; intervalMs?: number },
): Promise<'ready' | 'timeout' | 'failed'> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.failed?.()) return 'failed';
    if (await probe()) return 'ready';
    if (Date.now() >= deadline) return 'timeout';
    await sleep(opts.intervalMs ?? 100);
  }
}

/** Like httpOk, for a client that knows how to verify the server (the lab's pinned CA). */
export function answers(call: () => Promise<unknown>): Probe {
  return async () => {
    try {
      await call();
      return true;
    } catch {
      return false;
    }
  };
}
