import type { Ballot } from './ballot.js';
import { OPTIONS, type VoteOption } from './config.js';
import { emptyTally, type Tally } from './tally.js';

/**
 * result-db's schema and the queries on it. The schema belongs to a migration that result-db
 * applies when it starts (`migrate`), not to the worker or result-svc: they only read and
 * write rows, and wait (reconnecting) until the table is there.
 */

/** What can run SQL: a `pg` client, or PGlite in process. */
export interface Sql {
  query<R extends object>(text: string, params?: unknown[]): Promise<{ rows: R[] }>;
}

interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'votes',
    // One row per voter: their last choice. `seq` orders a voter's ballots, so a replayed or
    // late ballot never overwrites a newer one.
    sql: `CREATE TABLE votes (
      voter_id text PRIMARY KEY CHECK (voter_id ~ '^[0-9a-f]{32}$'),
      vote text NOT NULL,
      seq integer NOT NULL CHECK (seq >= 1),
      ts timestamptz NOT NULL
    );
    CREATE INDEX votes_by_vote ON votes (vote);`,
  },
];

/**
 * Brings the schema up to date; safe to run again and from two processes at once (an
 * advisory lock serialises them). Each migration and its bookkeeping row commit together.
 */
export async function migrate(db: Sql): Promise<number[]> {
  const applied: number[] = [];
  await db.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  await db.query('SELECT pg_advisory_lock(7420001)');
  try {
    const done = new Set(
      (await db.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      await db.query('BEGIN');
      try {
        for (const statement of m.sql.split(';').filter((s) => s.trim())) await db.query(statement);
        await db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
        await db.query('COMMIT');
      } catch (err) {
        await db.query('ROLLBACK');
        throw new Error(`migration ${m.version} (${m.name}) failed: ${(err as Error).message}`);
      }
      applied.push(m.version);
    }
  } finally {
    await db.query('SELECT pg_advisory_unlock(7420001)');
  }
  return applied;
}

/**
 * Records ballots, keeping for each voter only the one with the highest seq. One statement:
 * it commits all of them or none, and a ballot whose seq is not higher than the stored one
 * (a redelivery, a replay, a late arrival) changes nothing — what makes at-least-once
 * delivery an exactly-once effect.
 */
export async function upsertBallots(db: Sql, ballots: readonly Ballot[]): Promise<void> {
  // Postgres refuses to update one row twice in a statement: keep each voter's newest here.
  const newest = new Map<string, Ballot>();
  for (const b of ballots) {
    const seen = newest.get(b.voterId);
    if (!seen || seen.seq < b.seq) newest.set(b.voterId, b);
  }
  if (newest.size === 0) return;
  const rows = [...newest.values()];
  const values = rows.map(
    (_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}::integer, $${i * 4 + 4}::timestamptz)`,
  );
  await db.query(
    `INSERT INTO votes (voter_id, vote, seq, ts) VALUES ${values.join(', ')}
     ON CONFLICT (voter_id) DO UPDATE SET vote = EXCLUDED.vote, seq = EXCLUDED.seq, ts = EXCLUDED.ts
     WHERE votes.seq < EXCLUDED.seq`,
    rows.flatMap((b) => [b.voterId, b.vote, b.seq, b.ts]),
  );
}

export async function readTally(db: Sql): Promise<Tally> {
  const r = await db.query<{ vote: string; n: number }>(
    'SELECT vote, count(*)::integer AS n FROM votes GROUP BY vote',
  );
  const t = emptyTally();
  for (const row of r.rows) {
    if ((OPTIONS as readonly string[]).includes(row.vote)) t[row.vote as VoteOption] = Number(row.n);
  }
  t.total = OPTIONS.reduce((sum, o) => sum + t[o], 0);
  return t;
}
