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
  const hash = tokenHash(token);
  await sql.query('INSERT INTO sessions (token_hash, subject, expires_at) VALUES ($1, $2, $3)', [
    hash,
    JSON.stringify(principal),
    expiresAt.toISOString(),
  ]);
  remember(sql, hash, principal, expiresAt.getTime());
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

/**
 * Sessions read recently, by token hash, so that an agent's next requests (register, its event
 * and beat streams, its bundles: five in its first seconds) cost no store query each. Sound
 * because this orchestrator is the only writer of its sessions while it runs: every way a
 * session ends goes through deleteSession / deleteSessionsOf below, which forget it here, and
 * an expired one is refused here by its own expiry. An entry is trusted for REVALIDATE_MS at
 * most, then read again, so a change made behind the orchestrator's back (rows deleted by hand
 * in its store; a restore only ever writes an empty one) is seen within that time. Each entry names the store it came from: two orchestrators in one process (the tests)
 * never answer for each other's tokens.
 */
interface Remembered {
  store: Sql;
  principal: Principal;
  expiresAt: number;
  /** Read from the store again after this (ms). */
  until: number;
}
const REVALIDATE_MS = 30_000;
/** Beyond this many, the oldest are forgotten (then read again when used): bounds the memory (~0.3 KB each). */
const MAX_REMEMBERED = 20_000;
const remembered = new Map<string, Remembered>();

/**
 * Sessions ended in the last REVALIDATE_MS, which are not remembered again: a lookup whose
 * SELECT was queued before the DELETE, or ran inside the revoking transaction's window before
 * its commit, still reads the row — remembering it then would let a revoked token work for
 * REVALIDATE_MS. Logouts by token hash; revocations (a user, a node, a domain's owner) by the
 * principals they match. Bounded: past MAX_ENDED, nothing is remembered until they age out.
 */
const endedTokens = new Map<string, number>();
const endedMatches: { match: (p: Principal) => boolean; until: number }[] = [];
const MAX_ENDED = 10_000;

function recentlyEnded(hash: string, p: Principal, now: number): boolean {
  for (const [h, until] of endedTokens) {
    if (until > now) break; // in insertion order: the rest are younger
    endedTokens.delete(h);
  }
  while (endedMatches.length > 0 && endedMatches[0]!.until <= now) endedMatches.shift();
  if (endedTokens.size + endedMatches.length > MAX_ENDED) return true;
  return endedTokens.has(hash) || endedMatches.some((e) => e.match(p));
}

function remember(store: Sql, hash: string, principal: Principal, expiresAt: number): void {
  const now = Date.now();
  remembered.delete(hash);
  if (recentlyEnded(hash, principal, now)) return;
  remembered.set(hash, { store, principal, expiresAt, until: now + REVALIDATE_MS });
  if (remembered.size > MAX_REMEMBERED) remembered.delete(remembered.keys().next().value!);
}

export async function lookupSession(sql: Sql, token: string): Promise<Principal | null> {
  const hash = tokenHash(token);
  const hit = remembered.get(hash);
  const now = Date.now();
  if (hit && hit.store === sql && now < hit.until) {
    if (now < hit.expiresAt) return hit.principal;
    remembered.delete(hash);
    return null;
  }
  const rows = await sql.query<{ subject: string; expires_at: Date | string }>(
    'SELECT subject, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > now()',
    [hash],
  );
  const row = rows[0];
  if (!row) {
    remembered.delete(hash);
    return null;
  }
  const principal = JSON.parse(row.subject) as Principal;
  remember(sql, hash, principal, new Date(row.expires_at).getTime());
  return principal;
}

/** Ends every session whose principal matches; returns how many there were. */
export async function deleteSessionsOf(sql: Sql, match: (p: Principal) => boolean): Promise<number> {
  const rows = await sql.query<{ token_hash: string; subject: string }>(
    'SELECT token_hash, subject FROM sessions',
  );
  // Forgotten first, whichever store they came from (a needless miss costs one query; a
  // remembered session outliving its revocation would be a hole), and kept from being
  // remembered again by a lookup racing the DELETEs or the transaction's commit.
  endedMatches.push({ match, until: Date.now() + REVALIDATE_MS });
  for (const [hash, r] of remembered) if (match(r.principal)) remembered.delete(hash);
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
  const hash = tokenHash(token);
  endedTokens.set(hash, Date.now() + REVALIDATE_MS);
  remembered.delete(hash);
  await sql.query('DELETE FROM sessions WHERE token_hash = $1', [hash]);
}
