import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TrellisError } from '../../errors.js';
import { Contract, ContractCreate, ContractUpdate, Name, RoleName, RoleUpdate } from '../../model/index.js';
import { requireAdmin, requireDomainAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import {
  changeContract,
  changeRole,
  contractOr404,
  createContract,
  removeContract,
  withPathWarnings,
} from '../ops/contracts.js';
import { listContracts } from '../store/repos/contracts.js';
import { write } from '../write.js';
import { route } from './route.js';

const BASE = '/api/v1/domains/:domain/contracts';

/** A written contract; `warnings` says which of its flows today's topology cannot route. */
const WrittenContract = Contract.extend({ warnings: z.array(z.string()).optional() });

export function contractRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/contracts',
    summary: 'List contracts with their roles (optionally of one domain)',
    tag: 'contracts',
    query: z.strictObject({ domain: Name.optional() }),
    response: z.array(Contract),
    handler: async ({ principal, query }) => {
      requireAdmin(principal, 'list contracts');
      if (query.domain) requireDomainAdmin(principal, query.domain, 'list contracts');
      return listContracts(o.db, query.domain ? [query.domain] : visibleDomains(principal));
    },
  });

  route(app, o, {
    method: 'GET',
    url: `${BASE}/:name`,
    summary: 'Get a contract with its roles',
    tag: 'contracts',
    response: Contract,
    handler: async ({ principal, params }) => {
      requireDomainAdmin(principal, params.domain!, 'read contracts');
      return contractOr404(o.db, params.domain!, params.name!);
    },
  });

  route(app, o, {
    method: 'POST',
    url: BASE,
    summary: 'Create a contract; the orchestrator assigns its 32-bit contract ID',
    tag: 'contracts',
    body: ContractCreate,
    status: 201,
    response: WrittenContract,
    handler: async ({ principal, params, body }) => {
      const domain = params.domain!;
      requireDomainAdmin(principal, domain, 'create contracts');
      const role = (name: RoleName) => ({
        users: body.roles?.[name]?.users ?? [],
        pathParams: body.roles?.[name]?.pathParams ?? {},
      });
      const input = { ...body, roles: { client: role('client'), server: role('server') } };
      // Warnings after the commit: they read every node, and inside the transaction that held up
      // the policy event (and every agent's refetch) by as long.
      const created = await write(o, principal, (w) =>
        createContract(w, domain, input, 'body', (r) => `body.roles.${r}`),
      );
      return withPathWarnings(o.db, created);
    },
  });

  route(app, o, {
    method: 'PUT',
    url: `${BASE}/:name`,
    summary: "Update a contract's description or mode (enforce | audit)",
    tag: 'contracts',
    body: ContractUpdate,
    response: Contract,
    handler: async ({ principal, params, body }) => {
      requireDomainAdmin(principal, params.domain!, 'update contracts');
      return write(o, principal, (w) => changeContract(w, params.domain!, params.name!, body));
    },
  });

  route(app, o, {
    method: 'DELETE',
    url: `${BASE}/:name`,
    summary: 'Delete a contract and its roles',
    tag: 'contracts',
    status: 204,
    handler: async ({ principal, params }) => {
      requireDomainAdmin(principal, params.domain!, 'delete contracts');
      await write(o, principal, (w) => removeContract(w, params.domain!, params.name!));
    },
  });

  route(app, o, {
    method: 'GET',
    url: `${BASE}/:name/roles/:role`,
    summary: 'Get a role: its User Access List and path params',
    tag: 'contracts',
    response: z.object({
      contract: z.string(),
      domain: z.string(),
      contractId: z.number(),
      role: z.unknown(),
    }),
    handler: async ({ principal, params }) => {
      requireDomainAdmin(principal, params.domain!, 'read contracts');
      const role = parseRoleName(params.role!);
      const c = await contractOr404(o.db, params.domain!, params.name!);
      return {
        contract: c.name,
        domain: c.domain,
        contractId: c.id,
        role: c.roles.find((r) => r.name === role),
      };
    },
  });

  route(app, o, {
    method: 'PUT',
    url: `${BASE}/:name/roles/:role`,
    summary: "Set a role's User Access List and/or path params (fields left out stay as they are)",
    tag: 'contracts',
    body: RoleUpdate,
    response: WrittenContract,
    handler: async ({ principal, params, body }) => {
      requireDomainAdmin(principal, params.domain!, 'change roles');
      const roleName = parseRoleName(params.role!);
      // As for a new contract: the policy event goes out at the commit, the warnings after it.
      const changed = await write(o, principal, (w) =>
        changeRole(w, params.domain!, params.name!, roleName, body, 'body'),
      );
      return withPathWarnings(o.db, changed);
    },
  });
}

function parseRoleName(role: string): RoleName {
  const r = RoleName.safeParse(role);
  if (!r.success) {
    throw new TrellisError(
      'TRELLIS_ERR_NOT_FOUND',
      `no role "${role}": a contract has roles "client" and "server"`,
      {
        field: 'params.role',
      },
    );
  }
  return r.data;
}
