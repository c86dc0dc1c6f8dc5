import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/orchestrator/store/db.js';
import { checkStoreIntegrity } from '../src/orchestrator/store/integrity.js';
import { openStore } from '../src/orchestrator/store/open.js';
import { STORE_TABLES } from '../src/orchestrator/store/tables.js';
import { type StoreTarget, storeTargets } from './support/stores.js';

/**
 * The manifest the start-up integrity check trusts (issue 11, finding 3) must follow every kind
 * of write exactly: a miscount would refuse a healthy store. Upserts, cascades and bulk writes
 * are where a trigger-kept count goes wrong.
 */
describe.each(storeTargets().map((t) => [t.name, t] as const))(
  'store manifest (%s)',
  (_name, target: StoreTarget) => {
    let db: Db;
    let store: Awaited<ReturnType<StoreTarget['create']>>;

    const manifest = async () =>
      Object.fromEntries(
        (
          await db.query<{ table_name: string; row_count: number }>(
            'SELECT table_name, row_count::int AS row_count FROM store_manifest',
          )
        ).map((r) => [r.table_name, r.row_count]),
      );
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const t of STORE_TABLES)
        out[t] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`))[0]!.n;
      return out;
    };

    beforeAll(async () => {
      store = await target.create();
      db = await openStore(
        store.databaseUrl ? { databaseUrl: store.databaseUrl } : { dataDir: store.dataDir },
      );
    }, 60_000);
    afterAll(async () => {
      await db?.close();
      await store?.cleanup();
    });

    it('counts inserts, upserts, deletes, cascades and bulk writes exactly', async () => {
      await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO domains (name) SELECT 'd' || g FROM generate_series(1, 300) g`);
        await tx.query(
          `INSERT INTO contracts (id, domain, name) SELECT g, 'd' || (1 + g % 300), 'c' || g FROM generate_series(1, 900) g`,
        );
        await tx.query(
          `INSERT INTO roles (contract_id, role) SELECT g, r FROM generate_series(1, 900) g, unnest(ARRAY['client', 'server']) r`,
        );
      });
      // An upsert that updates inserts nothing; one that inserts counts once.
      for (const v of ['1', '2']) {
        await db.query(
          `INSERT INTO meta (key, value) VALUES ('k', $1::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
          [v],
        );
      }
      // ON DELETE CASCADE removes roles through the foreign key, not through a statement of ours.
      await db.query('DELETE FROM contracts WHERE id <= 100');
      await db.query("DELETE FROM domains WHERE name = 'nothing'");
      // A write that fails leaves the manifest as it was.
      await expect(
        db.transaction(async (tx) => {
          await tx.query(`INSERT INTO domains (name) VALUES ('doomed')`);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      const actual = await counts();
      expect(actual).toMatchObject({ domains: 300, contracts: 800, roles: 1600, meta: 1 });
      expect(await manifest()).toEqual(actual);
      await checkStoreIntegrity(db, { kind: 'pglite', dataDir: store.dataDir });
    }, 120_000);

    it('a manifest that disagrees with a table is refused, naming the table', async () => {
      await db.query("UPDATE store_manifest SET row_count = row_count + 1 WHERE table_name = 'roles'");
      await expect(checkStoreIntegrity(db, { kind: 'pglite', dataDir: store.dataDir })).rejects.toThrow(
        /table roles .*has 1600 rows, the manifest says 1601/,
      );
      await db.query("UPDATE store_manifest SET row_count = row_count - 1 WHERE table_name = 'roles'");
    });
  },
);
