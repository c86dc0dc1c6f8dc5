import { parseDenyCode } from '../../../deny-codes.js';
import type { Denial } from '../../../model/denial.js';
import type { Sql } from '../db.js';
import { iso } from './time.js';

export type { Denial };

export async function insertDenials(sql: Sql, ds: Denial[]): Promise<void> {
  for (const d of ds) {
    await sql.query(
      `INSERT INTO denials (at, reported_by, kind, domain, contract, contract_id, role, src, dst, code, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [
        d.at,
        d.reportedBy,
        d.kind,
        d.domain,
        d.contract,
        d.contractId,
        d.role,
        d.src,
        d.dst,
        d.code,
        d.reason,
      ],
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
  /** NULL for rows stored before migration 7. */
  code: string | null;
  reason: string;
}

export interface DenialQuery {
  /** Only these domains (null: every domain). */
  only: string[] | null;
  contract?: string;
  since?: Date;
  until?: Date;
  /** Only denials that name this node: reported by it, or with its node ID as source/destination. */
  node?: { name: string; nodeId?: string };
  limit: number;
}

/** Newest first. */
export async function listDenials(sql: Sql, q: DenialQuery): Promise<Denial[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => {
    args.push(v);
    return `$${args.length}`;
  };
  if (q.only !== null) where.push(`domain = ANY(${arg(q.only)})`);
  if (q.contract) where.push(`contract = ${arg(q.contract)}`);
  if (q.since) where.push(`at >= ${arg(q.since.toISOString())}`);
  if (q.until) where.push(`at <= ${arg(q.until.toISOString())}`);
  if (q.node) {
    const name = arg(q.node.name);
    where.push(
      q.node.nodeId
        ? `(reported_by = ${name} OR src = ${arg(q.node.nodeId)} OR dst = $${args.length})`
        : `reported_by = ${name}`,
    );
  }
  const rows = await sql.query<Row>(
    `SELECT * FROM denials ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${arg(q.limit)}`,
    args,
  );
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
    code: parseDenyCode(r.code),
    reason: r.reason,
  }));
}
