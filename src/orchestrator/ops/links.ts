import { notFound, TrellisError } from '../../errors.js';
import { type Link, type LinkStatus, linkName } from '../../model/index.js';
import type { Sql } from '../store/db.js';
import { deleteLink, getLink, insertLink, updateLink } from '../store/repos/links.js';
import { getProcessor } from '../store/repos/processors.js';
import type { WriteTx } from '../write.js';

async function linkOr404(sql: Sql, name: string): Promise<Link> {
  const l = await getLink(sql, name);
  if (!l) throw notFound('link', name);
  return l;
}

/** `fields` say where each end came from, e.g. ['body.a', 'body.b'] or ['links[0].between[0]', …]. */
export async function createLink(
  w: WriteTx,
  input: { a: string; b: string; cost: number; status: LinkStatus },
  fields: [string, string],
): Promise<Link> {
  for (const [i, end] of [input.a, input.b].entries()) {
    if (!(await getProcessor(w.sql, end))) {
      throw new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `unknown processor "${end}"`, {
        field: fields[i]!,
      });
    }
  }
  const [a, b] = input.a < input.b ? [input.a, input.b] : [input.b, input.a];
  const link: Link = { name: linkName(a, b), a, b, cost: input.cost, status: input.status };
  if (await getLink(w.sql, link.name))
    throw new TrellisError('TRELLIS_ERR_ALREADY_EXISTS', `link "${link.name}" already exists`);
  await insertLink(w.sql, link);
  await w.audit({ action: 'create', kind: 'link', name: link.name, domain: null, before: null, after: link });
  w.policyChanged();
  return link;
}

export async function changeLink(
  w: WriteTx,
  name: string,
  patch: { cost?: number; status?: LinkStatus },
): Promise<Link> {
  const before = await linkOr404(w.sql, name);
  const after: Link = { ...before, ...patch };
  await updateLink(w.sql, after);
  await w.audit({ action: 'update', kind: 'link', name, domain: null, before, after });
  w.policyChanged();
  return after;
}

export async function removeLink(w: WriteTx, name: string): Promise<void> {
  const before = await linkOr404(w.sql, name);
  await deleteLink(w.sql, name);
  await w.audit({ action: 'delete', kind: 'link', name, domain: null, before, after: null });
  w.policyChanged();
}
