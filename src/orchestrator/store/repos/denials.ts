import type { Denial } from '../../../model/denial.js';
import type { Sql } from '../db.js';
import { iso } from './time.js';

export type { Denial };

export async function insertDenials(sql: Sql, ds: Denial[]): Promise<void> {
  for (const d of ds) {
    await sql.query(
      `INSERT INTO denials (at, reported_by, kind, domain, contract, contract_id, role, src, dst, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [d.at, d.reportedBy, d.kind, d.domain, d.contract, d.contractId, d.role, d.src, d.dst, d.reason],
    );
  }
}

interface Row {
  at: Date;
  reported_by: string;
  kind: Denial['kind'];
  domain: string;
  contract: string;
  contract_id: number;
  role: Denial['role'];
  src: string | null;
  dst: string | null;
  reason: string;
}

/** Newest first. */
export async function listDenials(sql: Sql, only: string[] | null, limit: number): Promise<Denial[]> {
  const rows =
    only === null
      ? await sql.query<Row>('SELECT * FROM denials ORDER BY id DESC LIMIT $1', [limit])
      : await sql.query<Row>('SELECT * FROM denials WHERE domain = ANY($1) ORDER BY id DESC LIMIT $2', [
          only,
          limit,
        ]);
  return rows.map((r) => ({
    at: iso(r.at),
    reportedBy: r.reported_by,
    kind: r.kind,
    domain: r.domain,
    contract: r.contract,
    contractId: Number(r.contract_id),
    role: r.role,
    src: r.src,
    dst: r.dst,
    reason: r.reason,
  }));
}
