import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseHostPort } from '../../examples/voting-app/src/fabric-address.js';
import { connectPg } from '../../examples/voting-app/src/queue/pg-connect.js';
import { findPostgresBinDir } from '../../examples/voting-app/src/servers/find-binary.js';
import {
  POSTGRES_HINT,
  type RunningResultDb,
  startResultDb,
} from '../../examples/voting-app/src/services/result-db.js';
import { resultStoreConformance } from './result-store.conformance.js';

/**
 * result-db both ways: embedded PGlite (the default) and a real Postgres that the launcher
 * initdb's and runs as the `postgres` user. Without Postgres binaries the second is skipped
 * locally and fails under CI=true.
 */
const PGLITE_HOST = '127.0.8.41';
const PG_HOST = '127.0.8.42';
const PG_PORT = 46420;
const PG_PW_PORT = 46422;

function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let s = '';
      res.on('data', (d) => {
        s += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(s) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('embedded (PGlite)', () => {
  let db: RunningResultDb;
  beforeAll(async () => {
    db = await startResultDb({ host: PGLITE_HOST, port: 0, kind: 'pglite', healthPort: 0 });
  });
  afterAll(() => db?.close());

  resultStoreConformance({
    name: 'PGlite over pglite-socket',
    async fresh() {
      const c = await connectPg(parseHostPort(db.address));
      await c.query('TRUNCATE votes');
      return c;
    },
  });

  it('answers /healthz and /readyz on its health port', async () => {
    expect(db.kind).toBe('pglite');
    const h = await getJson(`http://${PGLITE_HOST}:${db.healthPort}/healthz`);
    expect(h).toEqual({ status: 200, body: { service: 'result-db', status: 'ok' } });
    const r = await getJson(`http://${PGLITE_HOST}:${db.healthPort}/readyz`);
    expect(r.status).toBe(200);
    expect(r.body.upstreams).toEqual({ store: 'ok' });
  });
});

const binDir = findPostgresBinDir();
if (!binDir && process.env.CI !== 'true') {
  describe.skip(`real Postgres — skipped: no postgres binaries (${POSTGRES_HINT})`, () => {
    it('runs the result-db suite against a real Postgres', () => {});
  });
} else if (!binDir) {
  describe('real Postgres', () => {
    it('needs postgres', () => {
      throw new Error(`CI=true but no postgres/initdb: ${POSTGRES_HINT}`);
    });
  });
} else {
  describe('real Postgres', () => {
    let db: RunningResultDb;
    beforeAll(async () => {
      db = await startResultDb({ host: PG_HOST, port: PG_PORT, kind: 'postgres', unsafeFast: true });
    }, 60_000);
    afterAll(() => db?.close());

    resultStoreConformance({
      name: 'Postgres (initdb by the launcher)',
      async fresh() {
        const c = await connectPg(parseHostPort(db.address));
        await c.query('TRUNCATE votes');
        return c;
      },
    });

    it('with RESULT_DB_PASSWORD, a TCP login needs the password', async () => {
      const secured = await startResultDb({
        host: PG_HOST,
        port: PG_PW_PORT,
        kind: 'postgres',
        password: 's3cret-for-test',
        unsafeFast: true,
      });
      try {
        const at = { host: PG_HOST, port: PG_PW_PORT };
        await expect(connectPg(at, undefined, { PGPASSWORD: 'wrong' })).rejects.toThrow(
          /password authentication failed/,
        );
        const ok = await connectPg(at, undefined, { PGPASSWORD: 's3cret-for-test' });
        const r = await ok.query<{ n: number }>('SELECT count(*)::int AS n FROM votes');
        expect(r.rows[0]!.n).toBe(0);
        await ok.end();
      } finally {
        await secured.close();
      }
    }, 60_000);
  });
}
