import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { TrellisError } from '../../errors.js';
import { BackupFile, KEY_FILES } from '../../model/backup-file.js';
import { caFingerprint } from '../../wire/fingerprint.js';
import { checkStoreIntegrity } from '../store/integrity.js';
import { migrate } from '../store/migrate.js';
import { MIGRATIONS } from '../store/migrations.js';
import { openStore, storeLocation } from '../store/open.js';
import { BACKED_UP_TABLES } from '../store/tables.js';

export interface RestoreResult {
  counts: Record<string, number>;
  store: string;
}

/**
 * `trellis orchestrator --restore FILE --data-dir D`: a backup into an EMPTY data dir (and,
 * with DATABASE_URL, an empty Postgres database). Never over anything: restoring onto a live
 * or damaged store would mix two fabrics. The backup is checked whole before the first write,
 * and the restored store passes the same integrity check a start runs.
 */
export async function restoreBackup(
  file: string,
  opts: { dataDir: string; databaseUrl?: string },
): Promise<RestoreResult> {
  const backup = await readBackup(file);
  const latest = MIGRATIONS.at(-1)!.version;
  if (backup.schemaVersion > latest) {
    throw new TrellisError(
      'TRELLIS_ERR_UNPROCESSABLE',
      `${file} was made by a newer Trellis (schema ${backup.schemaVersion}; this one knows up to ${latest})`,
      { hint: 'restore it with the Trellis version that made it, or a newer one' },
    );
  }
  await refuseNonEmptyDir(opts.dataDir);
  if (opts.databaseUrl) await refuseNonEmptyDatabase(opts.databaseUrl);
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  try {
    for (const f of KEY_FILES) {
      const text = backup.files[f];
      if (text !== undefined) await writeFile(join(opts.dataDir, f), text, { mode: 0o600, flag: 'wx' });
    }
    const db = await openStore({ ...opts, migrateUpTo: backup.schemaVersion });
    try {
      await db.transaction(async (tx) => {
        for (const t of BACKED_UP_TABLES) {
          const rows = backup.tables[t] ?? [];
          if (rows.length === 0) continue;
          // Postgres turns each row back into its own types: jsonb, timestamptz, bigint.
          await tx.query(`INSERT INTO ${t} SELECT * FROM jsonb_populate_recordset(NULL::${t}, $1::jsonb)`, [
            JSON.stringify(rows),
          ]);
        }
        for (const t of ['audit', 'denials']) {
          await tx.query(
            `SELECT setval(pg_get_serial_sequence('${t}', 'id'), coalesce((SELECT max(id) FROM ${t}), 1), (SELECT count(*) FROM ${t}) > 0)`,
          );
        }
      });
      await migrate(db);
      await checkStoreIntegrity(db, storeLocation(opts, opts.dataDir));
    } finally {
      await db.close();
    }
  } catch (err) {
    // The dir was empty: leave it so again, so the restore can simply be run again. A Postgres
    // database holds a partial schema now; the hint says to recreate it.
    const entries = await readdir(opts.dataDir).catch(() => [] as string[]);
    await Promise.all(entries.map((e) => rm(join(opts.dataDir, e), { recursive: true, force: true })));
    if (opts.databaseUrl && err instanceof Error) {
      throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', `restore of ${file} failed: ${err.message}`, {
        hint: 'drop and recreate the database (it now holds part of the schema), then restore again',
      });
    }
    throw err;
  }
  return {
    counts: backup.counts,
    store: opts.databaseUrl ? `postgres ${describeUrl(opts.databaseUrl)}` : `pglite in ${opts.dataDir}`,
  };
}

async function readBackup(file: string): Promise<BackupFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `--restore ${file}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  const bad = (why: string) =>
    new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `${file} is not a usable Trellis backup: ${why}`, {
      hint: 'use a file written by `trellis backup --out FILE`, whole and unedited',
    });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw bad(`not JSON, perhaps cut short (${(err as Error).message})`);
  }
  const parsed = BackupFile.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw bad(`${issue.path.join('.') || 'the document'}: ${issue.message}`);
  }
  const b = parsed.data;
  for (const t of BACKED_UP_TABLES) {
    const n = b.tables[t]?.length ?? 0;
    if (n !== (b.counts[t] ?? 0))
      throw bad(`table ${t} has ${n} rows, the backup's count says ${b.counts[t] ?? 0}`);
  }
  if (!b.files['ca.key'] || caFingerprint(b.files['ca.crt']) !== b.caFingerprint) {
    throw bad(`its CA (ca.crt, ca.key) is missing or is not ${b.caFingerprint}`);
  }
  return b;
}

async function refuseNonEmptyDir(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  if (entries.length > 0) {
    throw new TrellisError(
      'TRELLIS_ERR_CONFLICT',
      `--data-dir ${dir} is not empty (${entries.length} entries, e.g. ${entries.sort()[0]}): a restore never writes over a data dir`,
      { hint: 'restore into a new, empty directory, then start the orchestrator with that --data-dir' },
    );
  }
}

async function refuseNonEmptyDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
    );
    if ((rows[0]?.n ?? 0) > 0) {
      throw new TrellisError(
        'TRELLIS_ERR_CONFLICT',
        `the Postgres database ${describeUrl(url)} (DATABASE_URL) is not empty (${rows[0]!.n} tables): a restore never writes over a store`,
        { hint: 'create an empty database (createdb NAME), point DATABASE_URL at it and restore again' },
      );
    }
  } finally {
    await client.end();
  }
}

function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.host}${u.pathname}`;
  } catch {
    return '(DATABASE_URL)';
  }
}
