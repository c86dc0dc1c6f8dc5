import type { Link } from '../../../model/index.js';
import type { Sql } from '../db.js';

const COLS = 'name, a, b, cost, status';

export async function listLinks(sql: Sql): Promise<Link[]> {
  return sql.query<Link>(`SELECT ${COLS} FROM links ORDER BY name`);
}

export async function getLink(sql: Sql, name: string): Promise<Link | undefined> {
  return (await sql.query<Link>(`SELECT ${COLS} FROM links WHERE name = $1`, [name]))[0];
}

export async function linksOf(sql: Sql, processor: string): Promise<Link[]> {
  return sql.query<Link>(`SELECT ${COLS} FROM links WHERE a = $1 OR b = $1 ORDER BY name`, [processor]);
}

export async function insertLink(sql: Sql, l: Link): Promise<void> {
  await sql.query('INSERT INTO links (name, a, b, cost, status) VALUES ($1, $2, $3, $4, $5)', [
    l.name,
    l.a,
    l.b,
    l.cost,
    l.status,
  ]);
}

export async function updateLink(sql: Sql, l: Link): Promise<void> {
  await sql.query('UPDATE links SET cost = $2, status = $3 WHERE name = $1', [l.name, l.cost, l.status]);
}

export async function deleteLink(sql: Sql, name: string): Promise<void> {
  await sql.query('DELETE FROM links WHERE name = $1', [name]);
}
