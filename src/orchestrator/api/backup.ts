import type { FastifyInstance } from 'fastify';
import { BackupFile } from '../../model/backup-file.js';
import { requireSystemAdmin } from '../auth/rbac.js';
import { takeBackup } from '../backup/snapshot.js';
import type { Orchestrator } from '../context.js';
import { write } from '../write.js';
import { route } from './route.js';

/**
 * `GET /api/v1/backup`: an online, consistent snapshot of the store and the key files, for
 * `trellis backup --out FILE`. It holds ca.key and the ticket keys, so it is for systemAdmins
 * only, audited, and the CLI writes it 0600. Online because a fabric's control plane is not
 * stopped to be backed up, and because it is the same call for PGlite and Postgres.
 */
export function backupRoutes(app: FastifyInstance, o: Orchestrator, dataDir: string): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/backup',
    summary: 'A consistent snapshot of the store, the fabric CA and the ticket keys (systemAdmin; secret)',
    tag: 'meta',
    response: BackupFile,
    handler: async ({ principal, reply }) => {
      requireSystemAdmin(principal, 'take a backup');
      const backup = await takeBackup(o.db, dataDir);
      await write(o, principal, (w) =>
        w.audit({
          action: 'use',
          kind: 'backup',
          name: backup.createdAt,
          domain: null,
          before: null,
          // What was taken, never what it holds.
          after: { counts: backup.counts, schemaVersion: backup.schemaVersion },
        }),
      );
      reply.header('cache-control', 'no-store');
      return backup;
    },
  });
}
