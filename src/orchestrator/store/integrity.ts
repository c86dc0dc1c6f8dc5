import { join } from 'node:path';
import { TrellisError } from '../../errors.js';
import type { Db } from './db.js';
import { REFERENCES, STORE_TABLES } from './tables.js';

/** Where the store lives, so a damage report can name the file an operator would look at. */
export type StoreLocation = { kind: 'pglite'; dataDir: string } | { kind: 'postgres'; database: string };

/** The way out of every kind of damage: the last backup, restored into a fresh place. */
export const RESTORE_HINT =
  'restore the last backup into an empty data dir: trellis orchestrator --restore BACKUP --data-dir NEW_DIR (backups are made with `trellis backup --out BACKUP`), then start with --data-dir NEW_DIR';

export function describeStore(at: StoreLocation): string {
  return at.kind === 'pglite' ? `the store in ${at.dataDir}` : `the Postgres store ${at.database}`;
}

/**
 * Checks at start that the store holds what it held when it last wrote: every table as many
 * rows as the manifest counted (a truncated or cut-short table file reads as fewer rows, and
 * Postgres does not notice), every reference resolving (a damaged parent table leaves children
 * pointing at nothing), every page readable (data checksums catch a garbled one). Throws one
 * error naming each damaged table and its file; the store is never written to first.
 */
export async function checkStoreIntegrity(db: Db, at: StoreLocation): Promise<void> {
  const damage: string[] = [];
  const fileOf = async (table: string): Promise<string> => {
    try {
      const rows = await db.query<{ p: string | null }>(
        `SELECT pg_relation_filepath('${table}'::regclass) AS p`,
      );
      const p = rows[0]?.p;
      if (!p) return '';
      return at.kind === 'pglite' ? ` (${join(at.dataDir, p)})` : ` (${p} in the server's data directory)`;
    } catch {
      return '';
    }
  };
  // Sequential scans only: an index (in its own, undamaged file) would still count the rows a
  // truncated table file lost, or find the parent row a reference points at.
  const scan = <T extends object>(text: string, params: unknown[] = []) =>
    db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_indexscan = off');
      await tx.query('SET LOCAL enable_indexonlyscan = off');
      await tx.query('SET LOCAL enable_bitmapscan = off');
      return tx.query<T>(text, params);
    });
  const unreadable = (err: unknown) => (err instanceof Error ? err.message : String(err));

  for (const table of STORE_TABLES) {
    try {
      const [row] = await scan<{ actual: number; recorded: number | null }>(
        `SELECT (SELECT count(*) FROM ${table})::int AS actual,
                (SELECT row_count FROM store_manifest WHERE table_name = $1)::int AS recorded`,
        [table],
      );
      if (row === undefined || row.recorded === null) {
        damage.push(`the manifest${await fileOf('store_manifest')} has no count for table ${table}`);
      } else if (row.actual !== row.recorded) {
        damage.push(
          `table ${table}${await fileOf(table)} has ${row.actual} rows, the manifest says ${row.recorded}`,
        );
      }
    } catch (err) {
      damage.push(`table ${table}${await fileOf(table)} cannot be read: ${unreadable(err)}`);
    }
  }
  for (const ref of REFERENCES) {
    try {
      const [row] = await scan<{ n: number; example: string | null }>(
        `SELECT count(*)::int AS n, min(c.${ref.column}::text) AS example
           FROM ${ref.table} c LEFT JOIN ${ref.parent} p ON p.${ref.key} = c.${ref.column}
          WHERE c.${ref.column} IS NOT NULL AND p.${ref.key} IS NULL`,
      );
      if (row && row.n > 0) {
        damage.push(
          `${row.n} rows of table ${ref.table} point at ${ref.parent} missing from table ${ref.parent}${await fileOf(ref.parent)} (e.g. ${ref.column} "${row.example}")`,
        );
      }
    } catch (err) {
      damage.push(`table ${ref.table} or ${ref.parent} cannot be read: ${unreadable(err)}`);
    }
  }
  if (damage.length > 0) {
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${describeStore(at)} is damaged: ${damage.join('; ')}`,
      {
        hint: RESTORE_HINT,
      },
    );
  }
}

/** Whether pages carry checksums (PGlite's initdb is asked for them; an older store may lack them). */
export async function dataChecksums(db: Db): Promise<boolean> {
  const rows = await db.query<{ data_checksums: string }>('SHOW data_checksums');
  return rows[0]?.data_checksums === 'on';
}
