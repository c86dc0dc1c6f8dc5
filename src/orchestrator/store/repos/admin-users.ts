import type { AdminRole, AdminUser } from '../../../model/index.js';
import type { Sql } from '../db.js';

interface Row {
  name: string;
  role: AdminRole;
  domain: string | null;
  password_hash: string;
}
const toUser = (r: Row): AdminUser => ({ name: r.name, role: r.role, domain: r.domain });

export async function listAdminUsers(sql: Sql, only: string[] | null): Promise<AdminUser[]> {
  const rows =
    only === null
      ? await sql.query<Row>('SELECT * FROM admin_users ORDER BY name')
      : await sql.query<Row>('SELECT * FROM admin_users WHERE domain = ANY($1) ORDER BY name', [only]);
  return rows.map(toUser);
}

export async function getAdminUser(
  sql: Sql,
  name: string,
): Promise<(AdminUser & { passwordHash: string }) | undefined> {
  const r = (await sql.query<Row>('SELECT * FROM admin_users WHERE name = $1', [name]))[0];
  return r && { ...toUser(r), passwordHash: r.password_hash };
}

export async function insertAdminUser(sql: Sql, u: AdminUser, passwordHash: string): Promise<void> {
  await sql.query('INSERT INTO admin_users (name, role, domain, password_hash) VALUES ($1, $2, $3, $4)', [
    u.name,
    u.role,
    u.domain,
    passwordHash,
  ]);
}

export async function setAdminPassword(sql: Sql, name: string, passwordHash: string): Promise<void> {
  await sql.query('UPDATE admin_users SET password_hash = $2 WHERE name = $1', [name, passwordHash]);
}

export async function deleteAdminUser(sql: Sql, name: string): Promise<void> {
  await sql.query('DELETE FROM admin_users WHERE name = $1', [name]);
}

export async function countSystemAdmins(sql: Sql): Promise<number> {
  const rows = await sql.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM admin_users WHERE role = 'systemAdmin'",
  );
  return Number(rows[0]?.n ?? 0);
}
