import { describe, expect, it } from 'vitest';
import type { Ballot } from '../../examples/voting-app/src/ballot.js';
import type { Sql } from '../../examples/voting-app/src/result-store.js';
import { migrate, readTally, upsertBallots } from '../../examples/voting-app/src/result-store.js';
import { ballot, voter } from './ballot-queue.conformance.js';

/**
 * What the worker relies on in result-db, run against both stores (embedded PGlite and a real
 * Postgres): the migration, and the upsert that turns redelivered, replayed or reordered
 * ballots into exactly one counted vote per voter — the last one.
 */
export interface ResultStoreTarget {
  name: string;
  /** A connection to a migrated, empty result-db. */
  fresh(): Promise<Sql & { end(): Promise<void> }>;
}

async function voteOf(db: Sql, voterId: string): Promise<{ vote: string; seq: number } | undefined> {
  const r = await db.query<{ vote: string; seq: number }>('SELECT vote, seq FROM votes WHERE voter_id = $1', [
    voterId,
  ]);
  return r.rows[0];
}

export function resultStoreConformance(target: ResultStoreTarget): void {
  describe(`result-db: ${target.name}`, () => {
    const withDb = async (f: (db: Sql) => Promise<void>) => {
      const db = await target.fresh();
      try {
        await f(db);
      } finally {
        await db.end();
      }
    };

    it('the migration is applied once: running it again changes nothing', () =>
      withDb(async (db) => {
        expect(await migrate(db)).toEqual([]);
        const r = await db.query<{ version: number }>('SELECT version FROM schema_migrations');
        expect(r.rows.map((x) => x.version)).toEqual([1]);
      }));

    it('a replayed ballot with a lower seq does not change the tally; the voter’s last choice wins', () =>
      withDb(async (db) => {
        const v = voter();
        const first: Ballot = ballot({ voterId: v, vote: 'Mesos', seq: 1 });
        const second: Ballot = ballot({ voterId: v, vote: 'Kubernetes', seq: 2 });
        await upsertBallots(db, [first]);
        await upsertBallots(db, [second]);
        expect(await readTally(db)).toEqual({ Mesos: 0, Kubernetes: 1, total: 1 });
        await upsertBallots(db, [first]); // a replay of the older ballot
        await upsertBallots(db, [second]); // a redelivery of the same one
        expect(await readTally(db)).toEqual({ Mesos: 0, Kubernetes: 1, total: 1 });
        expect(await voteOf(db, v)).toEqual({ vote: 'Kubernetes', seq: 2 });
        await upsertBallots(db, [ballot({ voterId: v, vote: 'Mesos', seq: 3 })]);
        expect(await readTally(db)).toEqual({ Mesos: 1, Kubernetes: 0, total: 1 });
      }));

    it('ballots arriving out of order end at the highest seq, even within one batch', () =>
      withDb(async (db) => {
        const v = voter();
        const w = voter();
        await upsertBallots(db, [
          ballot({ voterId: v, vote: 'Kubernetes', seq: 5 }),
          ballot({ voterId: v, vote: 'Mesos', seq: 4 }),
          ballot({ voterId: w, vote: 'Mesos', seq: 1 }),
          ballot({ voterId: v, vote: 'Mesos', seq: 2 }),
        ]);
        await upsertBallots(db, [ballot({ voterId: v, vote: 'Mesos', seq: 3 })]);
        expect(await voteOf(db, v)).toEqual({ vote: 'Kubernetes', seq: 5 });
        expect(await readTally(db)).toEqual({ Mesos: 1, Kubernetes: 1, total: 2 });
      }));

    it('counts every option, zero included, in the shape of /voting/result.json', () =>
      withDb(async (db) => {
        expect(JSON.stringify(await readTally(db))).toBe('{"Mesos":0,"Kubernetes":0,"total":0}');
        await upsertBallots(
          db,
          Array.from({ length: 7 }, (_, i) => ballot({ vote: i < 3 ? 'Mesos' : 'Kubernetes' })),
        );
        expect(JSON.stringify(await readTally(db))).toBe('{"Mesos":3,"Kubernetes":4,"total":7}');
      }));

    it('the schema refuses a malformed voter id', () =>
      withDb(async (db) => {
        await expect(db.query("INSERT INTO votes VALUES ('not-hex', 'Mesos', 1, now())")).rejects.toThrow(
          /check constraint/,
        );
      }));
  });
}
