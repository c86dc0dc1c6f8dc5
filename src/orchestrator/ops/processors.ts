import { notFound, TrellisError } from '../../errors.js';
import { mentionedProcessors, type Processor } from '../../model/index.js';
import type { Sql } from '../store/db.js';
import { listContracts } from '../store/repos/contracts.js';
import { linksOf } from '../store/repos/links.js';
import { getNode } from '../store/repos/nodes.js';
import {
  deleteProcessor,
  getProcessor,
  insertProcessor,
  updateProcessor,
} from '../store/repos/processors.js';
import type { WriteTx } from '../write.js';

export async function processorOr404(sql: Sql, name: string): Promise<Processor> {
  const p = await getProcessor(sql, name);
  if (!p) throw notFound('processor', name);
  return p;
}

export async function createProcessor(w: WriteTx, p: Processor, field: string): Promise<Processor> {
  if (await getProcessor(w.sql, p.name)) {
    throw new TrellisError('TRELLIS_ERR_ALREADY_EXISTS', `processor "${p.name}" already exists`, {
      field: `${field}.name`,
    });
  }
  await insertProcessor(w.sql, p);
  await w.audit({ action: 'create', kind: 'processor', name: p.name, domain: null, before: null, after: p });
  w.policyChanged();
  return p;
}

export async function changeProcessor(
  w: WriteTx,
  name: string,
  patch: Partial<Omit<Processor, 'name'>>,
): Promise<Processor> {
  const before = await processorOr404(w.sql, name);
  const after: Processor = { ...before, ...patch };
  await updateProcessor(w.sql, after);
  await w.audit({ action: 'update', kind: 'processor', name, domain: null, before, after });
  return after;
}

/** Refused while anything still routes through it: links, path params, a live process. */
export async function removeProcessor(w: WriteTx, name: string): Promise<void> {
  const before = await processorOr404(w.sql, name);
  const links = await linksOf(w.sql, name);
  if (links.length > 0) {
    throw new TrellisError(
      'TRELLIS_ERR_CONFLICT',
      `processor "${name}" still has links: ${links.map((l) => l.name).join(', ')}`,
      {
        hint: 'delete its links first',
      },
    );
  }
  const usedBy = (await listContracts(w.sql, null)).flatMap((c) =>
    c.roles
      .filter((r) => mentionedProcessors(r.pathParams).some((m) => m.name === name))
      .map((r) => `${c.domain}/${c.name}/${r.name}`),
  );
  if (usedBy.length > 0) {
    throw new TrellisError(
      'TRELLIS_ERR_CONFLICT',
      `processor "${name}" is named in the path params of ${usedBy.join(', ')}`,
    );
  }
  if ((await getNode(w.sql, name))?.status === 'connected') {
    throw new TrellisError('TRELLIS_ERR_CONFLICT', `processor "${name}" is connected; stop it first`);
  }
  await deleteProcessor(w.sql, name);
  await w.audit({ action: 'delete', kind: 'processor', name, domain: null, before, after: null });
  w.policyChanged();
}
