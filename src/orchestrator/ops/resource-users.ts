import { notFound, TrellisError } from '../../errors.js';
import type { ResourceUser, ResourceUserKind } from '../../model/index.js';
import { deleteSessionsOf } from '../auth/sessions.js';
import type { Sql } from '../store/db.js';
import { listContracts } from '../store/repos/contracts.js';
import {
  deleteResourceUser,
  getResourceUser,
  insertResourceUser,
  updateResourceUser,
} from '../store/repos/resource-users.js';
import type { WriteTx } from '../write.js';
import { domainOr404 } from './domains.js';

/** Roles that name this user: deleting it would silently change who may talk to whom. */
async function rolesHolding(sql: Sql, domain: string, user: string): Promise<string[]> {
  return (await listContracts(sql, [domain])).flatMap((c) =>
    c.roles.filter((r) => r.users.includes(user)).map((r) => `${c.name}/${r.name}`),
  );
}

async function userOr404(sql: Sql, domain: string, name: string): Promise<ResourceUser> {
  const u = await getResourceUser(sql, domain, name);
  if (!u) throw notFound('resource user', name, ` in domain "${domain}"`);
  return { name: u.name, domain: u.domain, kind: u.kind };
}

export async function createResourceUser(
  w: WriteTx,
  user: ResourceUser,
  passwordHash: string,
  field: string,
): Promise<ResourceUser> {
  await domainOr404(w.sql, user.domain);
  if (await getResourceUser(w.sql, user.domain, user.name)) {
    throw new TrellisError(
      'TRELLIS_ERR_ALREADY_EXISTS',
      `resource user "${user.name}" already exists in domain "${user.domain}"`,
      {
        field,
      },
    );
  }
  await insertResourceUser(w.sql, user, passwordHash);
  await w.audit({
    action: 'create',
    kind: 'resourceUser',
    name: user.name,
    domain: user.domain,
    before: null,
    after: user,
  });
  return user;
}

export async function changeResourceUser(
  w: WriteTx,
  domain: string,
  name: string,
  patch: { kind?: ResourceUserKind; passwordHash?: string },
  field: string,
): Promise<ResourceUser> {
  const before = await userOr404(w.sql, domain, name);
  const after: ResourceUser = { ...before, kind: patch.kind ?? before.kind };
  if (after.kind === 'switchOwner' && before.kind === 'hostOwner') {
    const held = await rolesHolding(w.sql, domain, name);
    if (held.length > 0) {
      throw new TrellisError(
        'TRELLIS_ERR_CONFLICT',
        `"${name}" holds roles ${held.join(', ')}; only hostOwners may`,
        {
          field: `${field}.kind`,
        },
      );
    }
  }
  await updateResourceUser(w.sql, after, patch.passwordHash);
  // A reset password must lock out whoever had the old one, including live agent sessions.
  if (patch.passwordHash)
    await deleteSessionsOf(w.sql, (p) => p.type === 'resource' && p.domain === domain && p.name === name);
  const shown = patch.passwordHash ? { ...after, password: 'reset' } : after;
  await w.audit({ action: 'update', kind: 'resourceUser', name, domain, before, after: shown });
  return after;
}

export async function removeResourceUser(w: WriteTx, domain: string, name: string): Promise<void> {
  const before = await userOr404(w.sql, domain, name);
  const held = await rolesHolding(w.sql, domain, name);
  if (held.length > 0) {
    throw new TrellisError('TRELLIS_ERR_CONFLICT', `"${name}" still holds roles: ${held.join(', ')}`, {
      hint: 'remove it from those User Access Lists first',
    });
  }
  await deleteResourceUser(w.sql, domain, name);
  await deleteSessionsOf(w.sql, (p) => p.type === 'resource' && p.domain === domain && p.name === name);
  await w.audit({ action: 'delete', kind: 'resourceUser', name, domain, before, after: null });
}
