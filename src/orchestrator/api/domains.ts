import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Domain, DomainUpdate } from '../../model/index.js';
import { requireAdmin, requireDomainAdmin, requireSystemAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { changeDomain, createDomain, domainOr404, removeDomain } from '../ops/domains.js';
import { listDomains } from '../store/repos/domains.js';
import { write } from '../write.js';
import { route } from './route.js';

export function domainRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/domains',
    summary: 'List domains (a domainAdmin sees its own)',
    tag: 'domains',
    response: z.array(Domain),
    handler: async ({ principal }) => {
      requireAdmin(principal, 'list domains');
      return listDomains(o.db, visibleDomains(principal));
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/domains/:domain',
    summary: 'Get a domain',
    tag: 'domains',
    response: Domain,
    handler: async ({ principal, params }) => {
      requireDomainAdmin(principal, params.domain!, 'read');
      return domainOr404(o.db, params.domain!);
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/domains',
    summary: 'Create a domain',
    tag: 'domains',
    body: Domain,
    status: 201,
    response: Domain,
    handler: async ({ principal, body }) => {
      requireSystemAdmin(principal, 'create domains');
      return write(o, principal, (w) => createDomain(w, body, 'body'));
    },
  });

  route(app, o, {
    method: 'PUT',
    url: '/api/v1/domains/:domain',
    summary: "Update a domain's description",
    tag: 'domains',
    body: DomainUpdate,
    response: Domain,
    handler: async ({ principal, params, body }) => {
      requireDomainAdmin(principal, params.domain!, 'update the domain');
      return write(o, principal, (w) => changeDomain(w, params.domain!, body));
    },
  });

  route(app, o, {
    method: 'DELETE',
    url: '/api/v1/domains/:domain',
    summary: 'Delete an empty domain',
    tag: 'domains',
    status: 204,
    handler: async ({ principal, params }) => {
      requireSystemAdmin(principal, 'delete domains');
      await write(o, principal, (w) => removeDomain(w, params.domain!));
    },
  });
}
