import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { type BackoffOptions, backoffDelay, DEFAULT_BACKOFF } from '../backoff.js';
import { type Ballot, parseBallot } from '../ballot.js';
import { type AddressSource, fabricAddress } from '../fabric-address.js';
import { handleHealth } from '../health.js';
import { closeServer, listen, send } from '../http-kit.js';
import { silentLogger } from '../log.js';
import type { ClaimedBallot } from '../queue/ballot-queue.js';
import { parseVotingDbKind, type VotingDbKindSetting } from '../queue/connect.js';
import type { Reconnector } from '../reconnect.js';
import { upsertBallots } from '../result-store.js';
import { bindAddress, envInt, type RunningService, runMain } from '../service-main.js';
import { pgUpstream, pingCheck, using, votingStoreUpstream } from '../upstreams.js';

/**
 * worker: moves ballots from voting-db (contract voting-worker) to result-db (contract
 * result-worker). For each batch it claims, it upserts the ballots in one statement and only
 * then acknowledges them, so a crash at any point loses nothing: unacknowledged claims go
 * back to the queue (requeueStale) and are applied again — harmlessly, because the upsert
 * keeps each voter's highest seq.
 *
 * It never exits on a transient error: a store that is down is reconnected with backoff and
 * jitter, and a batch it holds is retried until it is written and acknowledged.
 *
 *   TRELLIS_VM_ADDRESS, PORT (default 8090: /healthz and /readyz)
 *   VOTING_WORKER_ADDR, RESULT_WORKER_ADDR   the two stores through the agent's listeners
 *   VOTING_DB_KIND        redis | pglite | auto (default)
 *   WORKER_BATCH          ballots per claim (default 100)
 *   WORKER_STALE_MS       a claim older than this is handed out again (default 30000)
 */
export interface WorkerOptions {
  host: string;
  port: number;
  votingWorker: AddressSource;
  resultWorker: AddressSource;
  votingDbKind?: VotingDbKindSetting;
  workerId?: string;
  batch?: number;
  /** How long one claim waits for ballots when the queue is empty. */
  waitMs?: number;
  staleMs?: number;
  backoff?: BackoffOptions;
  log?: Logger;
  redisPrefix?: string;
}

export interface RunningWorker extends RunningService {
  url: string;
  workerId: string;
  /** Ballots written and acknowledged so far. */
  stats(): { applied: number; invalid: number; batches: number };
}

/** Upper bound on one wait for a store while holding a batch (then retry, with backoff). */
const STORE_WAIT_MS = 5_000;

export async function startWorker(o: WorkerOptions): Promise<RunningWorker> {
  const log = o.log ?? silentLogger();
  const workerId = o.workerId ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const batch = o.batch ?? 100;
  const waitMs = o.waitMs ?? 1_000;
  const staleMs = o.staleMs ?? 30_000;
  const backoff = o.backoff ?? DEFAULT_BACKOFF;
  const queue = votingStoreUpstream({
    contract: 'voting-worker',
    address: o.votingWorker,
    kind: o.votingDbKind ?? 'auto',
    log,
    backoff,
    redisPrefix: o.redisPrefix,
  });
  const results = pgUpstream({ contract: 'result-worker', address: o.resultWorker, log, backoff });
  const stats = { applied: 0, invalid: 0, batches: 0 };
  const stop = new AbortController();
  let lastRequeue = 0;

  /** Retries `op` until it succeeds or the worker stops; the failure is logged, never fatal. */
  async function persist<T, R>(up: Reconnector<T>, what: string, op: (c: T) => Promise<R>): Promise<R> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await using(up, STORE_WAIT_MS, op);
      } catch (err) {
        const delay = backoffDelay(attempt, backoff);
        log[attempt < 2 ? 'info' : 'warn'](
          { upstream: up.name, err: (err as Error).message, retryInMs: delay },
          `${what} failed; retrying`,
        );
        await sleep(delay, undefined, { signal: stop.signal }).catch(() => {});
        // Stopping while holding a batch: the claims stay in voting-db and are requeued later.
        if (stop.signal.aborted) throw new Error('stopping');
      }
    }
  }

  async function apply(items: ClaimedBallot[]): Promise<void> {
    const ballots: Ballot[] = [];
    const invalid: ClaimedBallot[] = [];
    for (const item of items) {
      const p = parseBallot(item.body);
      if (p.ok) ballots.push(p.ballot);
      else {
        invalid.push(item);
        // Not a ballot (nothing voting-svc writes looks like this): keeping it would block
        // nothing but would be retried forever. It is logged in full and dropped.
        log.error({ body: item.body, problem: p.error }, 'invalid item in voting-db; discarding it');
      }
    }
    if (ballots.length > 0)
      await persist(results, 'writing ballots to result-db', (db) => upsertBallots(db, ballots));
    // Only now, with the ballots committed, may voting-db forget them. All at once (on Redis
    // one pipelined write, one round trip); whatever fails is retried one by one.
    const acks = await Promise.allSettled(
      items.map((item) => using(queue, STORE_WAIT_MS, (q) => q.ack(item.receipt))),
    );
    for (const [i, r] of acks.entries()) {
      if (r.status === 'rejected')
        await persist(queue, 'acknowledging a ballot', (q) => q.ack(items[i]!.receipt));
    }
    stats.applied += ballots.length;
    stats.invalid += invalid.length;
    stats.batches += 1;
    log.debug({ ballots: ballots.length }, 'batch applied');
  }

  async function loop(): Promise<void> {
    while (!stop.signal.aborted) {
      try {
        if (Date.now() - lastRequeue > Math.min(staleMs, 10_000)) {
          lastRequeue = Date.now();
          const n = await using(queue, STORE_WAIT_MS, (q) => q.requeueStale(staleMs));
          if (n > 0)
            log.warn({ ballots: n, staleMs }, 'requeued ballots whose worker never acknowledged them');
        }
        const items = await using(queue, STORE_WAIT_MS, (q) => q.claim(workerId, batch, waitMs));
        if (items.length > 0) await apply(items);
      } catch (err) {
        if (stop.signal.aborted) break;
        // Reconnecting is the Reconnector's job; this only paces the loop.
        log.debug({ err: (err as Error).message }, 'claim failed; retrying');
        await sleep(backoffDelay(0, backoff), undefined, { signal: stop.signal }).catch(() => {});
      }
    }
  }

  const checks = [pingCheck(queue, (q) => q.ping()), pingCheck(results, (c) => c.query('SELECT 1'))];
  let stopping = false;
  const server = createServer((req, res) => {
    if (!handleHealth(req, res, 'worker', checks, () => stopping))
      send(res, 404, 'try /healthz or /readyz\n');
  });
  const port = await listen(server, o.host, o.port);
  const running = loop();
  log.info({ workerId, address: `${o.host}:${port}`, batch, staleMs }, 'worker started');
  return {
    url: `http://${o.host}:${port}`,
    workerId,
    stats: () => ({ ...stats }),
    async close() {
      stopping = true;
      stop.abort();
      // The batch in hand is finished (or left claimed, to be requeued) before connections close.
      await running;
      await closeServer(server, 1_000);
      await Promise.all([queue.close(), results.close()]);
    },
  };
}

runMain(import.meta.url, 'worker', async (env, log) => {
  const { host, port } = bindAddress(env, 8090);
  return startWorker({
    host,
    port,
    votingWorker: fabricAddress('voting-worker', env),
    resultWorker: fabricAddress('result-worker', env),
    votingDbKind: parseVotingDbKind(env.VOTING_DB_KIND),
    batch: envInt(env, 'WORKER_BATCH', 100) || 100,
    staleMs: envInt(env, 'WORKER_STALE_MS', 30_000),
    log,
  });
});
