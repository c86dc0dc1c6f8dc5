import { TrellisError } from '../../errors.js';
import {
  mentionedProcessors,
  type PathParams,
  peerRole,
  type Role,
  type RoleName,
} from '../../model/index.js';
import { checkRoleParams } from '../paths/index.js';
import type { Sql } from '../store/db.js';
import { listProcessors } from '../store/repos/processors.js';
import { listResourceUsers } from '../store/repos/resource-users.js';

/**
 * Checks a role against the fabric before it is stored: its users are host owners of the
 * contract's domain, its path params name the peer role and this contract (the seed's shape),
 * and every processor it names exists. `field` prefixes the paths in the errors.
 */
export async function validateRole(
  sql: Sql,
  domain: string,
  contract: string,
  role: RoleName,
  r: Pick<Role, 'users' | 'pathParams'>,
  field: string,
): Promise<void> {
  const owners = new Set(
    (await listResourceUsers(sql, [domain])).filter((u) => u.kind === 'hostOwner').map((u) => u.name),
  );
  const seen = new Map<string, number>();
  r.users.forEach((user, i) => {
    const first = seen.get(user);
    if (first !== undefined) {
      throw new TrellisError(
        'TRELLIS_ERR_UNPROCESSABLE',
        `"${user}" is listed twice in the User Access List of the ${role} role of contract "${contract}" (also at index ${first})`,
        { field: `${field}.users[${i}]`, hint: 'list each host owner once' },
      );
    }
    seen.set(user, i);
  });
  r.users.forEach((user, i) => {
    if (!owners.has(user)) {
      throw new TrellisError(
        'TRELLIS_ERR_UNPROCESSABLE',
        `"${user}" is not a hostOwner of domain "${domain}", so it cannot hold the ${role} role of contract "${contract}"`,
        {
          field: `${field}.users[${i}]`,
          hint: 'create the host owner first (trellis apply, or POST …/resource-users)',
        },
      );
    }
  });
  const p = r.pathParams;
  const peer = peerRole(role);
  if (p.role !== undefined && p.role !== peer) {
    throw new TrellisError(
      'TRELLIS_ERR_UNPROCESSABLE',
      `pathParams.role of the ${role} role must name the peer role "${peer}", not "${p.role}"`,
      { field: `${field}.pathParams.role` },
    );
  }
  if (p.contract !== undefined && p.contract !== contract) {
    throw new TrellisError(
      'TRELLIS_ERR_UNPROCESSABLE',
      `pathParams.contract must name this contract "${contract}", not "${p.contract}"`,
      { field: `${field}.pathParams.contract` },
    );
  }
  const mentioned = mentionedProcessors(p);
  if (mentioned.length === 0) return;
  const known = new Set((await listProcessors(sql)).map((x) => x.name));
  for (const m of mentioned) {
    if (!known.has(m.name)) {
      const what = m.field.startsWith('transit') ? 'transit' : 'avoid';
      throw new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `unknown processor "${m.name}" in ${what}`, {
        field: `${field}.pathParams.${m.field}`,
        hint: 'list processors with `trellis get processors`',
      });
    }
  }
}

/**
 * Refuses path params no topology can satisfy (contradictions, a transit too long for a flow
 * ticket, revisits), alone and merged with the other role's params when `peer` is given, with
 * the same merge and limits the router uses — so what is stored can be routed somewhere.
 */
export function validatePathParams(
  role: RoleName,
  own: PathParams,
  peer: PathParams | undefined,
  field: string,
): void {
  const problem = checkRoleParams(role, own, peer);
  if (!problem) return;
  throw new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `${role} role: ${problem.reason}`, {
    field: `${field}.pathParams.${problem.field}`,
    hint: `constraint ${problem.constraint}; see docs/paths.md ("Checked when written")`,
  });
}
