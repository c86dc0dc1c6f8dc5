import type { Domain } from '../../../model/index.js';
import type { Sql } from '../db.js';

interface Row {
  name: string;
  description: string;
}
const toDomain = (r: Row): Domain => ({ name: r.name, description: r.description });

export async function listDomains(sql: Sql, only: string[] | null): Promise<Domain[]> {
  const rows =
    only === null
      ? await sql.query<Row>('SELECT name, description FROM domains ORDER BY name')
      : await sql.query<Row>('SELECT name, description FROM domains WHERE name = ANY($1) ORDER BY name', [
          only,
        ]);
  return rows.map(toDomain);
}

export async function getDomain(sql: Sql, name: string): Promise<Domain | undefined> {
  const rows = await sql.query<Row>('SELECT name, description FROM domains WHERE name = $1', [name]);
  return rows[0] && toDomain(rows[0]);
}

export async function insertDomain(sql: Sql, d: Domain): Promise<void> {
  await sql.query('INSERT INTO domains (name, description) VALUES ($1, $2)', [d.name, d.description]);
}

export async function updateDomain(sql: Sql, d: Domain): Promise<void> {
  await sql.query('UPDATE domains SET description = $2 WHERE name = $1', [d.name, d.description]);
}

export async function deleteDomain(sql: Sql, name: string): Promise<void> {
  await sql.query('DELETE FROM domains WHERE name = $1', [name]);
}

/** What still lives in a domain; a domain is deleted only when this is all zero. */
export async function domainContents(sql: Sql, name: string): Promise<Record<string, number>> {
  const count = async (table: string) =>
    Number(
      (await sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE domain = $1`, [name]))[0]
        ?.n ?? 0,
    );
  return {
    'resource users': await count('resource_users'),
    contracts: await count('contracts'),
    nodes: await count('nodes'),
    'admin users': await count('admin_users'),
  };
}
