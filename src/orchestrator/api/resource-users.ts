import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound } from '../../errors.js';
import { Name, Password, ResourceUser, ResourceUserCreate, ResourceUserKind } from '../../model/index.js';
import { hashPassword } from '../auth/password.js';
import { requireAdmin, requireDomainAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { changeResourceUser, createResourceUser, removeResourceUser } from '../ops/resource-users.js';
import { getResourceUser, listResourceUsers } from '../store/repos/resource-users.js';
import { write } from '../write.js';
import { route } from './route.js';

const BASE = '/api/v1/domains/:domain/resource-users';

export function resourceUserRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/resource-users',
    summary: 'List host owners and switch owners of every visible domain',
    tag: 'resource-users',
    query: z.strictObject({ domain: Name.optional() }),
    response: z.array(ResourceUser),
    handler: async ({ principal, query }) => {
      requireAdmin(principal, 'list resource users');
      if (query.domain) requireDomainAdmin(principal, query.domain, 'list resource users');
      return listResourceUsers(o.db, query.domain ? [query.domain] : visibleDomains(principal));
    },
  });

  route(app, o, {
    method: 'GET',
    url: `${BASE}/:name`,
    summary: 'Get a resource user',
    tag: 'resource-users',
    response: ResourceUser,
    handler: async ({ principal, params }) => {
      requireDomainAdmin(principal, params.domain!, 'read resource users');
      const u = await getResourceUser(o.db, params.domain!, params.name!);
      if (!u) throw notFound('resource user', params.name!, ` in domain "${params.domain}"`);
      return { name: u.name, domain: u.domain, kind: u.kind };
    },
  });

  route(app, o, {
    method: 'POST',
    url: BASE,
    summary: 'Create a hostOwner or switchOwner',
    tag: 'resource-users',
    body: ResourceUserCreate,
    status: 201,
    response: ResourceUser,
    handler: async ({ principal, params, body }) => {
      requireDomainAdmin(principal, params.domain!, 'create resource users');
      const hash = await hashPassword(body.password);
      const user: ResourceUser = { name: body.name, domain: params.domain!, kind: body.kind };
      return write(o, principal, (w) => createResourceUser(w, user, hash, 'body.name'));
    },
  });

  route(app, o, {
    method: 'PUT',
    url: `${BASE}/:name`,
    summary: "Change a resource user's kind and/or reset its password",
    tag: 'resource-users',
    body: z.strictObject({ kind: ResourceUserKind.optional(), password: Password.optional() }),
    response: ResourceUser,
    handler: async ({ principal, params, body }) => {
      requireDomainAdmin(principal, params.domain!, 'update resource users');
      const passwordHash = body.password === undefined ? undefined : await hashPassword(body.password);
      return write(o, principal, (w) =>
        changeResourceUser(
          w,
          params.domain!,
          params.name!,
          { ...(body.kind && { kind: body.kind }), ...(passwordHash && { passwordHash }) },
          'body',
        ),
      );
    },
  });

  route(app, o, {
    method: 'DELETE',
    url: `${BASE}/:name`,
    summary: 'Delete a resource user that holds no role',
    tag: 'resource-users',
    status: 204,
    handler: async ({ principal, params }) => {
      requireDomainAdmin(principal, params.domain!, 'delete resource users');
      await write(o, principal, (w) => removeResourceUser(w, params.domain!, params.name!));
    },
  });
}
