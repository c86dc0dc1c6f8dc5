import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * The stores every integration suite runs against: embedded PGlite always, and a real
 * Postgres server when TRELLIS_TEST_DATABASE_URL names one (`.ci/run` starts it). Under
 * CI=true a missing Postgres is a failure, not a skip.
 */
export interface StoreTarget {
  name: 'pglite' | 'postgres';
  /** Options for createOrchestrator / `trellis orchestrator`: a fresh, empty store. */
  create(): Promise<{ dataDir: string; databaseUrl?: string; cleanup(): Promise<void> }>;
}

const PG_HINT =
  'real Postgres tests need a server: apt-get install postgresql, then export TRELLIS_TEST_DATABASE_URL=postgres://user:pass@127.0.0.1:5432/postgres (bash .ci/run does both)';

export const pgliteTarget: StoreTarget = {
  name: 'pglite',
  async create() {
    const dataDir = await mkdtemp(join(tmpdir(), 'trellis-test-'));
    return { dataDir, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
  },
};

function postgresTarget(adminUrl: string): StoreTarget {
  return {
    name: 'postgres',
    async create() {
      const dataDir = await mkdtemp(join(tmpdir(), 'trellis-test-'));
      const db = `trellis_t_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${db}`);
      await admin.end();
      const url = new URL(adminUrl);
      url.pathname = `/${db}`;
      return {
        dataDir,
        databaseUrl: url.toString(),
        async cleanup() {
          await rm(dataDir, { recursive: true, force: true });
          const c = new pg.Client({ connectionString: adminUrl });
          await c.connect();
          await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
          await c.end();
        },
      };
    },
  };
}

/** A stand-in that fails every test it runs, naming what to install. */
const missingPostgres: StoreTarget = {
  name: 'postgres',
  async create() {
    throw new Error(`CI=true but no Postgres: ${PG_HINT}`);
  },
};

export function storeTargets(): StoreTarget[] {
  const url = process.env.TRELLIS_TEST_DATABASE_URL;
  if (url) return [pgliteTarget, postgresTarget(url)];
  if (process.env.CI === 'true') return [pgliteTarget, missingPostgres];
  console.warn(`skipping the Postgres variant: ${PG_HINT}`);
  return [pgliteTarget];
}
