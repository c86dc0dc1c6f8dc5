import type { Logger } from 'pino';
import type { BackoffOptions } from './backoff.js';
import { type AddressSource, requireAddress } from './fabric-address.js';
import type { ReadinessCheck } from './health.js';
import type { VotingStore } from './queue/ballot-queue.js';
import { connectVotingStore, type VotingDbKindSetting } from './queue/connect.js';
import { PgConnection } from './queue/pg-connect.js';
import { Reconnector } from './reconnect.js';

/**
 * Connections to the data stores over a contract's local listener. The address is looked up
 * again on every connect (the agent may have moved the listener), and a broken connection is
 * replaced with backoff and jitter.
 */

export function votingStoreUpstream(o: {
  contract: string;
  address: AddressSource;
  kind: VotingDbKindSetting;
  log: Logger;
  backoff?: BackoffOptions;
  redisPrefix?: string;
}): Reconnector<VotingStore> {
  return new Reconnector<VotingStore>({
    name: o.contract,
    log: o.log,
    backoff: o.backoff,
    connect: async (broken) =>
      connectVotingStore(await requireAddress(o.address, o.contract), o.kind, broken, {
        redisPrefix: o.redisPrefix,
      }),
    close: (s) => s.close(),
  });
}

export function pgUpstream(o: {
  contract: string;
  address: AddressSource;
  log: Logger;
  backoff?: BackoffOptions;
}): Reconnector<PgConnection> {
  return new Reconnector<PgConnection>({
    name: o.contract,
    log: o.log,
    backoff: o.backoff,
    connect: async (broken) => PgConnection.connect(await requireAddress(o.address, o.contract), broken),
    close: (c) => c.end(),
  });
}

/**
 * Runs `op` on the upstream's connection; if it fails, the connection is dropped (the next
 * call reconnects) and the error is passed on. `waitMs` bounds the wait for a connection.
 */
export async function using<T, R>(
  up: Reconnector<T>,
  waitMs: number,
  op: (conn: T) => Promise<R>,
): Promise<R> {
  const conn = await up.within(waitMs);
  try {
    return await op(conn);
  } catch (err) {
    if (isConnectionError(err)) up.invalidate(conn, err as Error);
    throw err;
  }
}

/**
 * Errors that say the connection is unusable, as opposed to a statement the server refused
 * (a constraint, a bad value), after which the connection is still fine.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; name?: unknown };
  // Postgres SQLSTATEs are 5 characters; the ones for a rejected statement keep the session.
  if (
    typeof e.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(e.code) &&
    !e.code.startsWith('08') &&
    !e.code.startsWith('57')
  ) {
    return false;
  }
  // Redis replies with an error (ReplyError) on a live connection; ZodError is our own check.
  if (e.name === 'ReplyError' || e.name === 'ZodError') return false;
  return true;
}

export function pingCheck<T>(up: Reconnector<T>, ping: (c: T) => Promise<unknown>): ReadinessCheck {
  return { name: up.name, run: () => using(up, 1_000, async (c) => void (await ping(c))) };
}
