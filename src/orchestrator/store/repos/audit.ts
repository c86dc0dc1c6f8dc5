import type { AuditEntry } from '../../../model/index.js';
import type { Sql } from '../db.js';
import { iso, json } from './time.js';

export type AuditRecord = Omit<AuditEntry, 'id' | 'at'>;

export async function insertAudit(sql: Sql, e: AuditRecord): Promise<void> {
  await sql.query(
    'INSERT INTO audit (actor, action, kind, name, domain, before, after) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)',
    [
      e.actor,
      e.action,
      e.kind,
      e.name,
      e.domain,
      e.before === null ? null : json(e.before),
      e.after === null ? null : json(e.after),
    ],
  );
}

interface Row {
  id: number;
  at: Date;
  actor: string;
  action: AuditEntry['action'];
  kind: string;
  name: string;
  domain: string | null;
  before: unknown;
  after: unknown;
}

/** Newest first. Fabric-wide entries (domain null) are visible to systemAdmins only. */
export async function listAudit(sql: Sql, only: string[] | null, limit: number): Promise<AuditEntry[]> {
  const rows =
    only === null
      ? await sql.query<Row>('SELECT * FROM audit ORDER BY id DESC LIMIT $1', [limit])
      : await sql.query<Row>('SELECT * FROM audit WHERE domain = ANY($1) ORDER BY id DESC LIMIT $2', [
          only,
          limit,
        ]);
  return rows.map((r) => ({ ...r, id: Number(r.id), at: iso(r.at) }));
}
