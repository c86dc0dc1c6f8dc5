import type { Logger } from 'pino';
import { parseHostPort } from '../fabric-address.js';
import type { ReadinessCheck } from '../health.js';
import { silentLogger } from '../log.js';
import type { VotingDbKind } from '../queue/ballot-queue.js';
import { connectVotingStore, parseVotingDbKind } from '../queue/connect.js';
import { PGLITE_QUEUE_SCHEMA } from '../queue/pglite-queue.js';
import { chooseStore, findRedisServer } from '../servers/find-binary.js';
import { healthPortFrom, startStoreHealth } from '../servers/health-server.js';
import { startPgliteServer } from '../servers/pglite-server.js';
import { startRedisServer } from '../servers/redis-server.js';
import { bindAddress, type RunningService, runMain } from '../service-main.js';

/**
 * voting-db: the ballot store, on the VM's address. A real redis-server when one is installed
 * (Debian `redis-server`), else the embedded default: PGlite on the Postgres wire. Clients
 * (voting-svc, worker) tell the two apart by probing, or by VOTING_DB_KIND.
 *
 * In memory by default: a restart of voting-db loses the ballots still queued. With
 * VOTING_DB_DATA_DIR it is durable — a ballot acknowledged to the voter survives a crash
 * (kill -9) and is in the queue again when voting-db restarts on the same directory: Redis
 * keeps an append-only file there fsynced on every write (`--appendonly yes --appendfsync
 * always`), PGlite keeps its database there.
 *
 *   TRELLIS_VM_ADDRESS  address to bind (default 127.0.0.1)
 *   PORT                port of the store (default 6379)
 *   VOTING_DB_KIND      redis | pglite | auto (default: redis if redis-server is found)
 *   VOTING_DB_DATA_DIR  keep the queue here, across restarts (default: in memory only)
 *   REDIS_SERVER_BIN    redis-server to run (default: from PATH)
 *   HEALTH_PORT         /healthz and /readyz (default PORT+1; `off` for none)
 */
export interface VotingDbOptions {
  host: string;
  port: number;
  kind?: VotingDbKind | 'auto';
  /** Keep the queue here, across restarts; in memory when omitted. */
  dataDir?: string;
  redisBin?: string;
  healthPort?: number;
  log?: Logger;
  /** Called if the store dies on its own (redis-server exited): the launcher should exit. */
  onFatal?: (why: string) => void;
}

export interface RunningVotingDb extends RunningService {
  kind: VotingDbKind;
  /** host:port of the store. */
  address: string;
  healthPort?: number;
}

export const REDIS_HINT = 'apt-get install -y redis-server';

export async function startVotingDb(o: VotingDbOptions): Promise<RunningVotingDb> {
  const log = o.log ?? silentLogger();
  const redisBin = o.redisBin ?? findRedisServer();
  const kind: VotingDbKind = chooseStore(
    o.kind,
    'redis',
    redisBin,
    `VOTING_DB_KIND=redis but no redis-server found (${REDIS_HINT})`,
  );
  let stopping = false;

  const store =
    kind === 'redis'
      ? await startRedisServer({ bin: redisBin!, host: o.host, port: o.port, dataDir: o.dataDir })
      : await startPgliteServer({
          host: o.host,
          port: o.port,
          dataDir: o.dataDir,
          setup: (db) => db.exec(PGLITE_QUEUE_SCHEMA).then(() => {}),
        });
  const address = `${o.host}:${store.port}`;
  if (store.kind === 'redis') {
    store.exited.then((how) => {
      if (!stopping) o.onFatal?.(`redis-server ${how}`);
    });
  }

  const checks: ReadinessCheck[] = [
    {
      name: 'store',
      run: async () => {
        const c = await connectVotingStore(parseHostPort(address), kind);
        try {
          await c.ping();
        } finally {
          await c.close();
        }
      },
    },
  ];
  const health = await startStoreHealth(
    { host: o.host, healthPort: o.healthPort, service: 'voting-db', checks, stopping: () => stopping },
    store,
  );
  log.info(
    {
      kind,
      address,
      healthPort: health?.port,
      dataDir: o.dataDir ?? 'memory',
      ...(kind === 'pglite' && !redisBin ? { hint: REDIS_HINT } : {}),
    },
    kind === 'redis' ? 'voting-db: redis-server ready' : 'voting-db: embedded PGlite ready (Postgres wire)',
  );
  return {
    kind,
    address,
    healthPort: health?.port,
    async close() {
      stopping = true;
      await health?.close();
      await store.close();
    },
  };
}

runMain(import.meta.url, 'voting-db', async (env, log) => {
  const { host, port } = bindAddress(env, 6379);
  return startVotingDb({
    host,
    port,
    kind: parseVotingDbKind(env.VOTING_DB_KIND),
    dataDir: env.VOTING_DB_DATA_DIR || undefined,
    healthPort: healthPortFrom(env, port),
    log,
    onFatal: (why) => {
      log.error({ why }, 'voting-db store died; exiting');
      process.exit(1);
    },
  });
});
