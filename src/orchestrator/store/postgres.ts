import pg from 'pg';
import type { Db, Sql } from './db.js';
import { Serial } from './serial.js';

// int8 (contract IDs are 32-bit unsigned, so they need bigint columns) arrives as text by
// default; every int8 we store fits in a JS number.
pg.types.setTypeParser(20, (v) => Number(v));

/** A real Postgres server, selected by DATABASE_URL. */
export async function openPostgres(url: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  // Fail at start with a clear error rather than on the first request.
  const probe = await pool.connect();
  probe.release();
  pool.on('error', () => {
    /* idle client errors are reported on the next query */
  });
  const serial = new Serial();
  return {
    kind: 'postgres',
    async query<T extends object>(text: string, params: unknown[] = []) {
      const res = await pool.query(text, params);
      return res.rows as T[];
    },
    async exec(script: string) {
      await pool.query(script);
    },
    transaction: (fn) =>
      serial.run(async () => {
        const client = await pool.connect();
        const tx: Sql = {
          async query<T extends object>(text: string, params: unknown[] = []) {
            const res = await client.query(text, params);
            return res.rows as T[];
          },
          async exec(script: string) {
            await client.query(script);
          },
        };
        try {
          await client.query('BEGIN');
          const out = await fn(tx);
          await client.query('COMMIT');
          return out;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
      }),
    close: () => pool.end(),
  };
}
