import { randomInt } from 'node:crypto';
import type { Contract, ContractMode, PathParams, Role, RoleName } from '../../../model/index.js';
import type { Sql } from '../db.js';
import { json } from './time.js';

interface ContractRow {
  id: number;
  domain: string;
  name: string;
  description: string;
  mode: ContractMode;
  proxy_protocol: boolean;
}
interface RoleRow {
  contract_id: number;
  role: RoleName;
  users: string[];
  path_params: PathParams;
}

const ROLE_ORDER: RoleName[] = ['client', 'server'];

function assemble(rows: ContractRow[], roleRows: RoleRow[]): Contract[] {
  const byContract = new Map<number, RoleRow[]>();
  for (const r of roleRows) {
    const id = Number(r.contract_id);
    byContract.set(id, [...(byContract.get(id) ?? []), r]);
  }
  return rows.map((c) => {
    const id = Number(c.id);
    const roles: Role[] = ROLE_ORDER.map((name) => {
      const r = byContract.get(id)?.find((x) => x.role === name);
      return { name, users: r?.users ?? [], pathParams: r?.path_params ?? {} };
    });
    return {
      name: c.name,
      domain: c.domain,
      id,
      description: c.description,
      mode: c.mode,
      proxyProtocol: c.proxy_protocol,
      roles,
    };
  });
}

export async function listContracts(sql: Sql, only: string[] | null): Promise<Contract[]> {
  const rows =
    only === null
      ? await sql.query<ContractRow>('SELECT * FROM contracts ORDER BY domain, name')
      : await sql.query<ContractRow>('SELECT * FROM contracts WHERE domain = ANY($1) ORDER BY domain, name', [
          only,
        ]);
  if (rows.length === 0) return [];
  const roleRows = await sql.query<RoleRow>('SELECT * FROM roles WHERE contract_id = ANY($1)', [
    rows.map((r) => r.id),
  ]);
  return assemble(rows, roleRows);
}

export async function getContract(sql: Sql, domain: string, name: string): Promise<Contract | undefined> {
  const rows = await sql.query<ContractRow>('SELECT * FROM contracts WHERE domain = $1 AND name = $2', [
    domain,
    name,
  ]);
  if (rows.length === 0) return undefined;
  const roleRows = await sql.query<RoleRow>('SELECT * FROM roles WHERE contract_id = $1', [rows[0]!.id]);
  return assemble(rows, roleRows)[0];
}

/** A fresh random 32-bit contract ID not yet used (the seed shows IDs like 0x400186a6). */
export async function newContractId(sql: Sql): Promise<number> {
  for (;;) {
    const id = randomInt(1, 0xffff_ffff);
    const taken = await sql.query('SELECT 1 FROM contracts WHERE id = $1', [id]);
    if (taken.length === 0) return id;
  }
}

export async function insertContract(sql: Sql, c: Contract): Promise<void> {
  await sql.query(
    'INSERT INTO contracts (id, domain, name, description, mode, proxy_protocol) VALUES ($1, $2, $3, $4, $5, $6)',
    [c.id, c.domain, c.name, c.description, c.mode, c.proxyProtocol],
  );
  for (const r of c.roles) await upsertRole(sql, c.id, r);
}

export async function updateContract(sql: Sql, c: Contract): Promise<void> {
  await sql.query('UPDATE contracts SET description = $2, mode = $3, proxy_protocol = $4 WHERE id = $1', [
    c.id,
    c.description,
    c.mode,
    c.proxyProtocol,
  ]);
}

/** Records that a contract changed at this policy epoch (so older tickets for it are refused). */
export async function markContractChanged(sql: Sql, id: number, epoch: number): Promise<void> {
  await sql.query('UPDATE contracts SET changed_epoch = $2 WHERE id = $1', [id, epoch]);
}

/** contract ID → epoch of its last change: what processors check ticket epochs against. */
export async function contractEpochs(sql: Sql): Promise<Record<number, number>> {
  const rows = await sql.query<{ id: number; changed_epoch: number }>(
    'SELECT id, changed_epoch FROM contracts',
  );
  return Object.fromEntries(rows.map((r) => [Number(r.id), Number(r.changed_epoch)]));
}

export async function upsertRole(sql: Sql, contractId: number, r: Role): Promise<void> {
  await sql.query(
    `INSERT INTO roles (contract_id, role, users, path_params) VALUES ($1, $2, $3::jsonb, $4::jsonb)
     ON CONFLICT (contract_id, role) DO UPDATE SET users = EXCLUDED.users, path_params = EXCLUDED.path_params`,
    [contractId, r.name, json(r.users), json(r.pathParams)],
  );
}

export async function deleteContract(sql: Sql, id: number): Promise<void> {
  await sql.query('DELETE FROM contracts WHERE id = $1', [id]);
}
