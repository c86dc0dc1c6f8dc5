import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  type Change,
  FabricSpec,
  type FabricState,
  formatFieldPath,
  planFabric,
  specPathOf,
} from '../../apply/index.js';
import type { ContractDraft, ContractHeader } from '../../apply/plan.js';
import {
  ApplyAnswer,
  type Domain,
  type Link,
  type Processor,
  type ResourceUser,
  type Role,
  type RoleName,
} from '../../model/index.js';
import { generatePassword, hashPassword } from '../auth/password.js';
import type { Principal } from '../auth/principal.js';
import { requireDomainAdmin, requireSystemAdmin } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import {
  changeContract,
  changeRole,
  contractOr404,
  contractPathWarnings,
  createContract,
  removeContract,
} from '../ops/contracts.js';
import { changeDomain, createDomain } from '../ops/domains.js';
import { changeLink, createLink, removeLink } from '../ops/links.js';
import { changeProcessor, createProcessor, removeProcessor } from '../ops/processors.js';
import { changeResourceUser, createResourceUser, removeResourceUser } from '../ops/resource-users.js';
import type { Sql } from '../store/db.js';
import { listContracts } from '../store/repos/contracts.js';
import { listDomains } from '../store/repos/domains.js';
import { listLinks } from '../store/repos/links.js';
import { listProcessors } from '../store/repos/processors.js';
import { listResourceUsers } from '../store/repos/resource-users.js';
import { type WriteTx, write } from '../write.js';
import { route } from './route.js';
import { parseInput } from './validation.js';

const ApplyBody = z.strictObject({
  spec: z.unknown(),
  prune: z.boolean().default(false),
  dryRun: z.boolean().default(false),
  /** Passwords for resource users the apply creates, keyed `domain/user`; the rest are generated. */
  passwords: z.record(z.string(), z.string().min(8).max(256)).default({}),
});

/** Rolls a dry run back after it has been executed (so it is checked exactly like the real one). */
class DryRun extends Error {}

async function currentState(sql: Sql): Promise<FabricState> {
  return {
    domains: await listDomains(sql, null),
    resourceUsers: await listResourceUsers(sql, null),
    contracts: await listContracts(sql, null),
    processors: await listProcessors(sql),
    links: await listLinks(sql),
  };
}

function authorize(p: Principal, c: Change): void {
  const what = `${c.action} ${c.kind} "${c.name}"`;
  if (c.kind === 'processor' || c.kind === 'link' || (c.kind === 'domain' && c.action !== 'update')) {
    requireSystemAdmin(p, what);
  } else {
    requireDomainAdmin(p, c.domain ?? c.name, what);
  }
}

interface Execution {
  w: WriteTx;
  field: string;
  passwords: Record<string, string>;
  generated: Record<string, string>;
  /** Every change of this apply: a role is checked against its peer role's final params. */
  changes: Change[];
}

/** Carries out one planned change through the same operations the REST endpoints use. */
async function execute(c: Change, x: Execution): Promise<void> {
  const { w, field } = x;
  const domain = c.domain ?? '';
  switch (c.kind) {
    case 'domain':
      if (c.action === 'create') await createDomain(w, c.after as Domain, field);
      else if (c.action === 'update')
        await changeDomain(w, c.name, { description: (c.after as Domain).description });
      return;
    case 'resourceUser': {
      const user = c.after as ResourceUser;
      if (c.action === 'delete') return removeResourceUser(w, domain, c.name);
      if (c.action === 'update') {
        await changeResourceUser(w, domain, c.name, { kind: user.kind }, field);
        return;
      }
      const key = `${domain}/${c.name}`;
      let password = x.passwords[key];
      if (password === undefined) {
        password = generatePassword();
        x.generated[key] = password;
      }
      await createResourceUser(w, user, await hashPassword(password), field);
      return;
    }
    case 'processor':
      if (c.action === 'create') await createProcessor(w, c.after as Processor, field);
      else if (c.action === 'update') await changeProcessor(w, c.name, c.after as Processor);
      else await removeProcessor(w, c.name);
      return;
    case 'link': {
      const l = c.after as Link;
      if (c.action === 'create') await createLink(w, l, [`${field}.between[0]`, `${field}.between[1]`]);
      else if (c.action === 'update') await changeLink(w, c.name, { cost: l.cost, status: l.status });
      else await removeLink(w, c.name);
      return;
    }
    case 'contract': {
      if (c.action === 'delete') return removeContract(w, domain, c.name);
      if (c.action === 'update') {
        const h = c.after as ContractHeader;
        await changeContract(w, domain, c.name, {
          description: h.description,
          mode: h.mode,
          proxyProtocol: h.proxyProtocol,
        });
        return;
      }
      const d = c.after as ContractDraft;
      const role = (n: RoleName) => {
        const r = d.roles.find((x) => x.name === n);
        return { users: r?.users ?? [], pathParams: r?.pathParams ?? {} };
      };
      const input = {
        name: d.name,
        description: d.description,
        mode: d.mode,
        proxyProtocol: d.proxyProtocol,
        roles: { client: role('client'), server: role('server') },
      };
      await createContract(w, domain, input, field, (n) => `${field}.${n}`);
      return;
    }
    case 'role': {
      const [contract, roleName] = c.name.split('/') as [string, RoleName];
      const r = c.after as Role;
      const peerName = `${contract}/${roleName === 'client' ? 'server' : 'client'}`;
      const peer = x.changes.find((p) => p.kind === 'role' && p.domain === c.domain && p.name === peerName);
      const patch = { users: r.users, pathParams: r.pathParams };
      await changeRole(
        w,
        domain,
        contract,
        roleName,
        patch,
        field,
        (peer?.after as Role | undefined)?.pathParams,
      );
      return;
    }
  }
}

export function applyRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'POST',
    url: '/api/v1/apply',
    summary: 'Make the fabric match a fabric file (declarative, idempotent, all-or-nothing)',
    tag: 'apply',
    body: ApplyBody,
    response: ApplyAnswer,
    handler: async ({ principal, body }) => {
      // Field paths in spec errors are relative to the file, so the CLI can name the line.
      const spec = parseInput(FabricSpec, body.spec, '');
      const run = async (w: WriteTx) => {
        const changes = planFabric(spec, await currentState(w.sql), { prune: body.prune });
        const generated: Record<string, string> = {};
        for (const c of changes) {
          authorize(principal, c);
          const path = specPathOf(spec, c);
          await execute(c, {
            w,
            field: path ? formatFieldPath(path) : c.name,
            passwords: body.passwords,
            generated,
            changes,
          });
        }
        const warnings: string[] = [];
        const written = new Set(
          changes
            .filter((c) => (c.kind === 'contract' && c.action === 'create') || c.kind === 'role')
            .map((c) => `${c.domain ?? ''}/${c.name.split('/')[0]}`),
        );
        for (const key of written) {
          const [domain, name] = key.split('/') as [string, string];
          warnings.push(...(await contractPathWarnings(w.sql, await contractOr404(w.sql, domain, name))));
        }
        const result = { dryRun: body.dryRun, changes, generatedPasswords: generated, warnings };
        if (body.dryRun) throw Object.assign(new DryRun(), { result });
        return result;
      };
      try {
        return await write(o, principal, run);
      } catch (err) {
        if (err instanceof DryRun) {
          const { result } = err as DryRun & { result: { changes: Change[]; warnings: string[] } };
          return { dryRun: true, changes: result.changes, generatedPasswords: {}, warnings: result.warnings };
        }
        throw err;
      }
    },
  });
}
