import type { Sql } from '../db.js';

export async function getMeta<T>(sql: Sql, key: string): Promise<T | undefined> {
  const rows = await sql.query<{ value: T }>('SELECT value FROM meta WHERE key = $1', [key]);
  return rows[0]?.value;
}

export async function setMeta(sql: Sql, key: string, value: unknown): Promise<void> {
  await sql.query(
    'INSERT INTO meta (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
    [key, JSON.stringify(value)],
  );
}

/**
 * The policy epoch: bumped by every change that can alter who may talk to whom or along
 * which path. Flow tickets carry it, so hops can refuse tickets issued before a change.
 */
export async function bumpPolicyEpoch(sql: Sql): Promise<number> {
  const epoch = ((await getMeta<number>(sql, 'policyEpoch')) ?? 0) + 1;
  await setMeta(sql, 'policyEpoch', epoch);
  return epoch;
}
