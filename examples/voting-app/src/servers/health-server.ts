import { createServer } from 'node:http';
import { handleHealth, type ReadinessCheck } from '../health.js';
import { closeServer, listen, send } from '../http-kit.js';

/**
 * The data stores speak RESP or the Postgres wire on their PORT; their /healthz and /readyz
 * live on a small HTTP port of their own (HEALTH_PORT, by default PORT+1).
 */
export async function startHealthServer(o: {
  host: string;
  port: number;
  service: string;
  checks: ReadinessCheck[];
  stopping: () => boolean;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (!handleHealth(req, res, o.service, o.checks, o.stopping)) send(res, 404, 'try /healthz or /readyz\n');
  });
  const port = await listen(server, o.host, o.port);
  return { port, close: () => closeServer(server, 1_000) };
}

/**
 * A store's health server when a port is configured; if it cannot start, the store it
 * watches is closed before the error propagates, so nothing is left half-started.
 */
export async function startStoreHealth(
  o: {
    host: string;
    healthPort: number | undefined;
    service: string;
    checks: ReadinessCheck[];
    stopping: () => boolean;
  },
  store: { close(): Promise<void> },
): Promise<{ port: number; close(): Promise<void> } | undefined> {
  if (o.healthPort === undefined) return undefined;
  return startHealthServer({
    host: o.host,
    port: o.healthPort,
    service: o.service,
    checks: o.checks,
    stopping: o.stopping,
  }).catch(async (err: Error) => {
    await store.close();
    throw err;
  });
}

/** HEALTH_PORT if set (0 = any free port, `off` = none), else PORT+1 when PORT is fixed. */
export function healthPortFrom(env: NodeJS.ProcessEnv, port: number): number | undefined {
  const v = env.HEALTH_PORT;
  if (v === 'off') return undefined;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      throw new Error(`HEALTH_PORT must be a port number or "off" (got ${JSON.stringify(v)})`);
    }
    return n;
  }
  return port > 0 && port < 65535 ? port + 1 : undefined;
}
