import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '../store/db.js';
import type { Principal } from './principal.js';

/** Bearer tokens are random; only their SHA-256 is stored, so a leaked database grants nothing. */
export function newToken(): string {
  return `trl_${randomBytes(32).toString('base64url')}`;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createSession(
  sql: Sql,
  principal: Principal,
  ttlMs: number,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(Date.now() + ttlMs);
  await sql.query('INSERT INTO sessions (token_hash, subject, expires_at) VALUES ($1, $2, $3)', [
    tokenHash(token),
    JSON.stringify(principal),
    expiresAt.toISOString(),
  ]);
  // Expired sessions are dropped opportunistically so the table does not grow without bound —
  // at most every PURGE_EVERY_MS per store: a lookup ignores them anyway, and 1,000 agents
  // logging in at once each paid a scan of the table for nothing.
  const now = Date.now();
  if (now - (purgedAt.get(sql) ?? 0) >= PURGE_EVERY_MS) {
    purgedAt.set(sql, now);
    await sql.query('DELETE FROM sessions WHERE expires_at < now()');
  }
  return { token, expiresAt };
}

const PURGE_EVERY_MS = 60_000;
const purgedAt = new WeakMap<Sql, number>();

export async function lookupSession(sql: Sql, token: string): Promise<Principal | null> {
  const rows = await sql.query<{ subject: string }>(
    'SELECT subject FROM sessions WHERE token_hash = $1 AND expires_at > now()',
    [tokenHash(token)],
  );
  const row = rows[0];
  return row ? (JSON.parse(row.subject) as Principal) : null;
}

/** Ends every session whose principal matches; returns how many there were. */
export async function deleteSessionsOf(sql: Sql, match: (p: Principal) => boolean): Promise<number> {
  const rows = await sql.query<{ token_hash: string; subject: string }>(
    'SELECT token_hash, subject FROM sessions',
  );
  let n = 0;
  for (const r of rows) {
    if (match(JSON.parse(r.subject) as Principal)) {
      await sql.query('DELETE FROM sessions WHERE token_hash = $1', [r.token_hash]);
      n += 1;
    }
  }
  return n;
}

/** Logout: the token stops working at once (it is looked up on every request). */
export async function deleteSession(sql: Sql, token: string): Promise<void> {
  await sql.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash(token)]);
}
