import type { Processor } from '../../../model/index.js';
import type { Sql } from '../db.js';

export async function listProcessors(sql: Sql): Promise<Processor[]> {
  return sql.query<Processor>('SELECT name, zone, description FROM processors ORDER BY name');
}

export async function getProcessor(sql: Sql, name: string): Promise<Processor | undefined> {
  return (
    await sql.query<Processor>('SELECT name, zone, description FROM processors WHERE name = $1', [name])
  )[0];
}

/** Which of `names` are declared processors: one query however many a registration names. */
export async function declaredProcessors(sql: Sql, names: string[]): Promise<Set<string>> {
  const rows = await sql.query<{ name: string }>('SELECT name FROM processors WHERE name = ANY($1)', [names]);
  return new Set(rows.map((r) => r.name));
}

export async function insertProcessor(sql: Sql, p: Processor): Promise<void> {
  await sql.query('INSERT INTO processors (name, zone, description) VALUES ($1, $2, $3)', [
    p.name,
    p.zone,
    p.description,
  ]);
}

export async function updateProcessor(sql: Sql, p: Processor): Promise<void> {
  await sql.query('UPDATE processors SET zone = $2, description = $3 WHERE name = $1', [
    p.name,
    p.zone,
    p.description,
  ]);
}

export async function deleteProcessor(sql: Sql, name: string): Promise<void> {
  await sql.query('DELETE FROM processors WHERE name = $1', [name]);
}
