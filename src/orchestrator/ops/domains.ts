import { notFound, TrellisError } from '../../errors.js';
import type { Domain } from '../../model/index.js';
import type { Sql } from '../store/db.js';
import {
  deleteDomain,
  domainContents,
  getDomain,
  insertDomain,
  updateDomain,
} from '../store/repos/domains.js';
import type { WriteTx } from '../write.js';

/**
 * Operations: validate, write, audit — shared by the REST handlers and `apply`, so a change
 * made either way is checked by the same rules. `field` is where the input came from
 * (`body`, or a path in a fabric file), so errors point at the right place.
 */
export async function domainOr404(sql: Sql, domain: string): Promise<Domain> {
  const d = await getDomain(sql, domain);
  if (!d) throw notFound('domain', domain);
  return d;
}

export async function createDomain(w: WriteTx, d: Domain, field: string): Promise<Domain> {
  if (await getDomain(w.sql, d.name)) {
    throw new TrellisError('TRELLIS_ERR_ALREADY_EXISTS', `domain "${d.name}" already exists`, {
      field: `${field}.name`,
    });
  }
  await insertDomain(w.sql, d);
  await w.audit({ action: 'create', kind: 'domain', name: d.name, domain: d.name, before: null, after: d });
  return d;
}

export async function changeDomain(
  w: WriteTx,
  name: string,
  patch: Partial<Pick<Domain, 'description'>>,
): Promise<Domain> {
  const before = await domainOr404(w.sql, name);
  const after = { ...before, ...patch };
  await updateDomain(w.sql, after);
  await w.audit({ action: 'update', kind: 'domain', name, domain: name, before, after });
  return after;
}

export async function removeDomain(w: WriteTx, name: string): Promise<void> {
  const before = await domainOr404(w.sql, name);
  const contents = Object.entries(await domainContents(w.sql, name)).filter(([, n]) => n > 0);
  if (contents.length > 0) {
    throw new TrellisError(
      'TRELLIS_ERR_CONFLICT',
      `domain "${name}" still has ${contents.map(([k, n]) => `${n} ${k}`).join(', ')}`,
      {
        hint: 'delete them first',
      },
    );
  }
  await deleteDomain(w.sql, name);
  await w.audit({ action: 'delete', kind: 'domain', name, domain: name, before, after: null });
}
