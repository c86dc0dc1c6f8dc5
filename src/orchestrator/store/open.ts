import type { Db } from './db.js';
import type { StoreLocation } from './integrity.js';
import { migrate } from './migrate.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

/** Real Postgres when a URL is given, else embedded PGlite in dataDir; migrated either way. */
export async function openStore(opts: {
  databaseUrl?: string;
  dataDir?: string;
  migrateUpTo?: number;
}): Promise<Db> {
  const db = opts.databaseUrl ? await openPostgres(opts.databaseUrl) : await openPglite(opts.dataDir);
  try {
    await migrate(db, opts.migrateUpTo);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

/** Where the store is, for messages: a Postgres URL without its credentials. */
export function storeLocation(
  opts: { databaseUrl?: string; dataDir?: string },
  dataDir: string,
): StoreLocation {
  if (!opts.databaseUrl) return { kind: 'pglite', dataDir: opts.dataDir ?? dataDir };
  try {
    const u = new URL(opts.databaseUrl);
    return { kind: 'postgres', database: `${u.host}${u.pathname}` };
  } catch {
    return { kind: 'postgres', database: '(DATABASE_URL)' };
  }
}
