import type { EnrolmentTokenInfo } from '../../../model/index.js';
import type { Sql } from '../db.js';
import { iso } from './time.js';

interface Row {
  id: string;
  secret_hash: string;
  domain: string;
  kind: 'hostOwner' | 'switchOwner';
  owner: string;
  vm: string | null;
  uses: number;
  max_uses: number;
  expires_at: Date;
  created_at: Date;
  created_by: string;
  revoked_at: Date | null;
}

export type StoredEnrolmentToken = EnrolmentTokenInfo & { secretHash: string };

function toToken(r: Row, now = Date.now()): StoredEnrolmentToken {
  const expiresAt = iso(r.expires_at);
  const status = r.revoked_at
    ? 'revoked'
    : r.uses >= r.max_uses
      ? 'used'
      : Date.parse(expiresAt) <= now
        ? 'expired'
        : 'active';
  return {
    id: r.id,
    secretHash: r.secret_hash,
    domain: r.domain,
    kind: r.kind,
    owner: r.owner,
    vm: r.vm,
    uses: Number(r.uses),
    maxUses: Number(r.max_uses),
    expiresAt,
    createdAt: iso(r.created_at),
    createdBy: r.created_by,
    revokedAt: r.revoked_at ? iso(r.revoked_at) : null,
    status,
  };
}

export async function insertEnrolmentToken(
  sql: Sql,
  t: Omit<StoredEnrolmentToken, 'uses' | 'createdAt' | 'revokedAt' | 'status'>,
): Promise<StoredEnrolmentToken> {
  const rows = await sql.query<Row>(
    `INSERT INTO enrolment_tokens (id, secret_hash, domain, kind, owner, vm, max_uses, expires_at, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [t.id, t.secretHash, t.domain, t.kind, t.owner, t.vm, t.maxUses, t.expiresAt, t.createdBy],
  );
  return toToken(rows[0]!);
}

export async function listEnrolmentTokens(sql: Sql, only: string[] | null): Promise<StoredEnrolmentToken[]> {
  const rows =
    only === null
      ? await sql.query<Row>('SELECT * FROM enrolment_tokens ORDER BY created_at, id')
      : await sql.query<Row>(
          'SELECT * FROM enrolment_tokens WHERE domain = ANY($1) ORDER BY created_at, id',
          [only],
        );
  return rows.map((r) => toToken(r));
}

/** FOR UPDATE: two nodes racing with a one-use token — the second waits, then sees it spent. */
export async function getEnrolmentTokenForUse(
  sql: Sql,
  id: string,
): Promise<StoredEnrolmentToken | undefined> {
  const r = (await sql.query<Row>('SELECT * FROM enrolment_tokens WHERE id = $1 FOR UPDATE', [id]))[0];
  return r && toToken(r);
}

export async function getEnrolmentToken(sql: Sql, id: string): Promise<StoredEnrolmentToken | undefined> {
  const r = (await sql.query<Row>('SELECT * FROM enrolment_tokens WHERE id = $1', [id]))[0];
  return r && toToken(r);
}

export async function countEnrolmentTokenUse(sql: Sql, id: string): Promise<void> {
  await sql.query('UPDATE enrolment_tokens SET uses = uses + 1 WHERE id = $1', [id]);
}

export async function revokeEnrolmentToken(sql: Sql, id: string): Promise<void> {
  await sql.query('UPDATE enrolment_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [
    id,
  ]);
}
