import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type BackupFile, KEY_FILES } from '../../model/backup-file.js';
import { caFingerprint } from '../../wire/fingerprint.js';
import type { Db } from '../store/db.js';
import { BACKED_UP_TABLES } from '../store/tables.js';

/**
 * A consistent snapshot of a running orchestrator's store and key files. One REPEATABLE READ,
 * READ ONLY transaction sees every table at the same instant on Postgres; on PGlite (one
 * connection) nothing else runs meanwhile. Key files are read inside it too: a ticket-key
 * rotation writes its file and its store record inside a write transaction, which waits.
 */
export async function takeBackup(db: Db, dataDir: string): Promise<BackupFile> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    const [schema] = await tx.query<{ v: number }>('SELECT max(version)::int AS v FROM schema_migrations');
    const tables: BackupFile['tables'] = {};
    const counts: BackupFile['counts'] = {};
    for (const t of BACKED_UP_TABLES) {
      const order = t === 'audit' || t === 'denials' ? ' ORDER BY id' : '';
      const rows = await tx.query<{ row: Record<string, unknown> }>(
        `SELECT to_jsonb(t) AS row FROM ${t} t${order}`,
      );
      tables[t] = rows.map((r) => r.row);
      counts[t] = rows.length;
    }
    const files: Partial<Record<(typeof KEY_FILES)[number], string>> = {};
    for (const f of KEY_FILES) {
      const text = await readFile(join(dataDir, f), 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (text !== undefined) files[f] = text;
    }
    const caCrt = files['ca.crt'] ?? '';
    return {
      format: 'trellis-backup',
      version: 1,
      createdAt: new Date().toISOString(),
      store: db.kind,
      schemaVersion: schema?.v ?? 0,
      caFingerprint: caFingerprint(caCrt),
      counts,
      tables,
      files: { ...files, 'ca.crt': caCrt, 'ca.key': files['ca.key'] ?? '' },
    };
  });
}
