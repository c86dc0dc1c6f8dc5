import { setTimeout as sleep } from 'node:timers/promises';
import type { PGlite } from '@electric-sql/pglite';
import type { Logger } from 'pino';
import type { ReadinessCheck } from '../health.js';
import { silentLogger } from '../log.js';
import { connectPg } from '../queue/pg-connect.js';
import { migrate, type Sql } from '../result-store.js';
import { chooseStore, findPostgresBinDir } from '../servers/find-binary.js';
import { healthPortFrom, startStoreHealth } from '../servers/health-server.js';
import { startPgliteServer } from '../servers/pglite-server.js';
import { startPostgresServer } from '../servers/postgres-server.js';
import { bindAddress, envFlag, type RunningService, runMain } from '../service-main.js';

/**
 * result-db: the votes table, on the VM's address. A real Postgres when one is installed
 * (Debian `postgresql`: initdb into a data directory of its own, run as the `postgres` user),
 * else the embedded default: PGlite on the Postgres wire. Either way it applies the schema
 * migration before clients can use it — the schema is result-db's, not the worker's.
 *
 *   TRELLIS_VM_ADDRESS   address to bind (default 127.0.0.1)
 *   PORT                 port (default 5432)
 *   RESULT_DB_KIND       postgres | pglite | auto (default: postgres if its binaries are found)
 *   RESULT_DB_DATA_DIR   keep the data here (default: a temporary directory / in memory)
 *   RESULT_DB_PASSWORD   postgres only: require this password for TCP logins (clients: PGPASSWORD)
 *   POSTGRES_BIN_DIR     where postgres and initdb are (default /usr/lib/postgresql/<newest>/bin)
 *   RESULT_DB_UNSAFE_FAST  postgres only: fsync off (tests)
 *   HEALTH_PORT          /healthz and /readyz (default PORT+1; `off` for none)
 */
export type ResultDbKind = 'postgres' | 'pglite';

export interface ResultDbOptions {
  host: string;
  port: number;
  kind?: ResultDbKind | 'auto';
  dataDir?: string;
  password?: string;
  binDir?: string;
  unsafeFast?: boolean;
  healthPort?: number;
  log?: Logger;
  onFatal?: (why: string) => void;
}

export interface RunningResultDb extends RunningService {
  kind: ResultDbKind;
  address: string;
  healthPort?: number;
}

export const POSTGRES_HINT = 'apt-get install -y postgresql';

export async function startResultDb(o: ResultDbOptions): Promise<RunningResultDb> {
  const log = o.log ?? silentLogger();
  const binDir = o.binDir ?? findPostgresBinDir();
  const kind: ResultDbKind = chooseStore(
    o.kind,
    'postgres',
    binDir,
    `RESULT_DB_KIND=postgres but no postgres/initdb found (${POSTGRES_HINT}, or set POSTGRES_BIN_DIR)`,
  );
  let stopping = false;

  let store: { port: number; close(): Promise<void> };
  if (kind === 'postgres') {
    const pg = await startPostgresServer({
      binDir: binDir!,
      host: o.host,
      port: o.port,
      dataDir: o.dataDir,
      password: o.password,
      unsafeFast: o.unsafeFast,
    });
    store = pg;
    try {
      await migrateOverWire(o.host, pg.port, o.password, log);
    } catch (err) {
      await pg.close();
      throw err;
    }
    pg.exited.then((how) => {
      if (!stopping) o.onFatal?.(`postgres ${how}`);
    });
  } else {
    store = await startPgliteServer({
      host: o.host,
      port: o.port,
      dataDir: o.dataDir,
      // In process, before the port opens: the migration's transaction cannot meet a client.
      setup: async (db: PGlite) => {
        const applied = await migrate(db as unknown as Sql);
        if (applied.length) log.info({ applied }, 'result-db: migrations applied');
      },
    });
  }
  const address = `${o.host}:${store.port}`;

  const checks: ReadinessCheck[] = [
    {
      name: 'store',
      run: async () => {
        const c = await connectPg({ host: o.host, port: store.port }, undefined, pgEnv(o.password));
        try {
          await c.query('SELECT 1 FROM votes LIMIT 1');
        } finally {
          await c.end();
        }
      },
    },
  ];
  const health = await startStoreHealth(
    { host: o.host, healthPort: o.healthPort, service: 'result-db', checks, stopping: () => stopping },
    store,
  );
  log.info(
    {
      kind,
      address,
      healthPort: health?.port,
      dataDir: o.dataDir ?? (kind === 'pglite' ? 'memory' : 'temporary'),
    },
    kind === 'postgres' ? 'result-db: postgres ready' : 'result-db: embedded PGlite ready (Postgres wire)',
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

function pgEnv(password: string | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PGUSER: 'postgres',
    PGDATABASE: 'postgres',
    ...(password ? { PGPASSWORD: password } : {}),
  };
}

/** A freshly started Postgres may still refuse queries ("starting up"): retry for a while. */
async function migrateOverWire(
  host: string,
  port: number,
  password: string | undefined,
  log: Logger,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const c = await connectPg({ host, port }, undefined, pgEnv(password));
      try {
        const applied = await migrate(c);
        if (applied.length) log.info({ applied }, 'result-db: migrations applied');
        return;
      } finally {
        await c.end();
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(200);
    }
  }
}

function parseKind(value: string | undefined): ResultDbKind | 'auto' {
  const v = (value ?? 'auto').trim().toLowerCase();
  if (v === 'postgres' || v === 'pglite' || v === 'auto') return v;
  throw new Error(`RESULT_DB_KIND must be postgres, pglite or auto (got ${JSON.stringify(value)})`);
}

runMain(import.meta.url, 'result-db', async (env, log) => {
  const { host, port } = bindAddress(env, 5432);
  return startResultDb({
    host,
    port,
    kind: parseKind(env.RESULT_DB_KIND),
    dataDir: env.RESULT_DB_DATA_DIR || undefined,
    password: env.RESULT_DB_PASSWORD || undefined,
    unsafeFast: envFlag(env, 'RESULT_DB_UNSAFE_FAST'),
    healthPort: healthPortFrom(env, port),
    log,
    onFatal: (why) => {
      log.error({ why }, 'result-db store died; exiting');
      process.exit(1);
    },
  });
});
