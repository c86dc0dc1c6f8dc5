import { z } from 'zod';

/** The key files a backup carries, by their name in the data dir. */
export const KEY_FILES = ['ca.crt', 'ca.key', 'ticket.key', 'ticket-keyring.json'] as const;

/**
 * `trellis backup` output: one JSON document holding the store (every table but sessions, each
 * row as Postgres's own to_jsonb of it) and the key files, taken in one read-only transaction.
 * A logical dump rather than a copy of PGlite's files: the same file restores into PGlite or
 * Postgres, and a damaged data dir cannot be copied into it unnoticed.
 */
export const BackupFile = z.object({
  format: z.literal('trellis-backup'),
  version: z.literal(1),
  createdAt: z.string(),
  /** The store it was taken from (it restores into either). */
  store: z.enum(['pglite', 'postgres']),
  /** The newest migration the store had: a restore migrates to it, loads, then migrates on. */
  schemaVersion: z.number().int().positive(),
  caFingerprint: z.string(),
  /** Rows per table: a file cut short or edited by hand is refused before anything is written. */
  counts: z.record(z.string(), z.number().int().nonnegative()),
  tables: z.record(z.string(), z.array(z.record(z.string(), z.unknown()))),
  files: z.object({
    'ca.crt': z.string(),
    'ca.key': z.string(),
    'ticket.key': z.string().optional(),
    'ticket-keyring.json': z.string().optional(),
  }),
});
export type BackupFile = z.infer<typeof BackupFile>;
