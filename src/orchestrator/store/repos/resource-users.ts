import type { ResourceUser, ResourceUserKind } from '../../../model/index.js';
import type { Sql } from '../db.js';

interface Row {
  domain: string;
  name: string;
  kind: ResourceUserKind;
  password_hash: string;
}
const toUser = (r: Row): ResourceUser => ({ name: r.name, domain: r.domain, kind: r.kind });

export async function listResourceUsers(sql: Sql, only: string[] | null): Promise<ResourceUser[]> {
  const rows =
    only === null
      ? await sql.query<Row>('SELECT * FROM resource_users ORDER BY domain, name')
      : await sql.query<Row>('SELECT * FROM resource_users WHERE domain = ANY($1) ORDER BY domain, name', [
          only,
        ]);
  return rows.map(toUser);
}

export async function getResourceUser(
  sql: Sql,
  domain: string,
  name: string,
): Promise<(ResourceUser & { passwordHash: string }) | undefined> {
  const r = (
    await sql.query<Row>('SELECT * FROM resource_users WHERE domain = $1 AND name = $2', [domain, name])
  )[0];
  return r && { ...toUser(r), passwordHash: r.password_hash };
}

/** Resource users with this name in any domain: a login without a domain must be unambiguous. */
export async function findResourceUsersNamed(
  sql: Sql,
  name: string,
): Promise<(ResourceUser & { passwordHash: string })[]> {
  const rows = await sql.query<Row>('SELECT * FROM resource_users WHERE name = $1 ORDER BY domain', [name]);
  return rows.map((r) => ({ ...toUser(r), passwordHash: r.password_hash }));
}

export async function insertResourceUser(sql: Sql, u: ResourceUser, passwordHash: string): Promise<void> {
  await sql.query('INSERT INTO resource_users (domain, name, kind, password_hash) VALUES ($1, $2, $3, $4)', [
    u.domain,
    u.name,
    u.kind,
    passwordHash,
  ]);
}

export async function updateResourceUser(sql: Sql, u: ResourceUser, passwordHash?: string): Promise<void> {
  await sql.query(
    'UPDATE resource_users SET kind = $3, password_hash = COALESCE($4, password_hash) WHERE domain = $1 AND name = $2',
    [u.domain, u.name, u.kind, passwordHash ?? null],
  );
}

export async function deleteResourceUser(sql: Sql, domain: string, name: string): Promise<void> {
  await sql.query('DELETE FROM resource_users WHERE domain = $1 AND name = $2', [domain, name]);
}
