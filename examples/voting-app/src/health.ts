import type { IncomingMessage, ServerResponse } from 'node:http';
import { pathOf, sendJson } from './http-kit.js';

/**
 * `/healthz`: the process is alive and serving. `/readyz`: every fabric upstream it needs
 * answers — a round trip through the agent's local listener, so a missing grant, a broken
 * path or a dead upstream all show up here, named.
 */
export interface ReadinessCheck {
  /** The contract or upstream it checks, e.g. `voting-backend`. */
  name: string;
  run(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 2_000;

export async function runChecks(
  checks: readonly ReadinessCheck[],
): Promise<{ ready: boolean; upstreams: Record<string, string> }> {
  const upstreams: Record<string, string> = {};
  await Promise.all(
    checks.map(async (c) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.run(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)),
              CHECK_TIMEOUT_MS,
            );
          }),
        ]);
        upstreams[c.name] = 'ok';
      } catch (err) {
        upstreams[c.name] = `error: ${(err as Error).message}`;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: Object.values(upstreams).every((v) => v === 'ok'), upstreams };
}

/** Answers /healthz and /readyz; returns false for any other path. */
export function handleHealth(
  req: IncomingMessage,
  res: ServerResponse,
  service: string,
  checks: readonly ReadinessCheck[],
  stopping: () => boolean = () => false,
): boolean {
  const path = pathOf(req);
  if (path === '/healthz') {
    sendJson(res, 200, { service, status: 'ok' });
    return true;
  }
  if (path === '/readyz') {
    if (stopping()) {
      sendJson(res, 503, { service, ready: false, reason: 'shutting down' });
      return true;
    }
    runChecks(checks).then(
      (r) => sendJson(res, r.ready ? 200 : 503, { service, ...r }),
      (err: Error) => sendJson(res, 500, { service, ready: false, reason: err.message }),
    );
    return true;
  }
  return false;
}
