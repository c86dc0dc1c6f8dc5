import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound } from '../../errors.js';
import { Link, LinkCreate, LinkUpdate } from '../../model/index.js';
import { requireAdmin, requireSystemAdmin } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import { changeLink, createLink, removeLink } from '../ops/links.js';
import { getLink, listLinks } from '../store/repos/links.js';
import { write } from '../write.js';
import { route } from './route.js';

export function linkRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/links',
    summary: 'List processor links',
    tag: 'links',
    response: z.array(Link),
    handler: async ({ principal }) => {
      requireAdmin(principal, 'list links');
      return listLinks(o.db);
    },
  });

  // One link by name, for `trellis get link NAME` (a GET of that one, not a filtered list).
  route(app, o, {
    method: 'GET',
    url: '/api/v1/links/:name',
    summary: 'Get a processor link',
    tag: 'links',
    response: Link,
    handler: async ({ principal, params }) => {
      requireAdmin(principal, 'read links');
      const link = await getLink(o.db, params.name!);
      if (!link) throw notFound('link', params.name!);
      return link;
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/links',
    summary: 'Create a link between two processors; its name is "a--b" (sorted)',
    tag: 'links',
    body: LinkCreate,
    status: 201,
    response: Link,
    handler: async ({ principal, body }) => {
      requireSystemAdmin(principal, 'create links');
      return write(o, principal, (w) => createLink(w, body, ['body.a', 'body.b']));
    },
  });

  route(app, o, {
    method: 'PUT',
    url: '/api/v1/links/:name',
    summary: "Change a link's cost or admin status (up | down)",
    tag: 'links',
    body: LinkUpdate,
    response: Link,
    handler: async ({ principal, params, body }) => {
      requireSystemAdmin(principal, 'update links');
      return write(o, principal, (w) => changeLink(w, params.name!, body));
    },
  });

  route(app, o, {
    method: 'DELETE',
    url: '/api/v1/links/:name',
    summary: 'Delete a link',
    tag: 'links',
    status: 204,
    handler: async ({ principal, params }) => {
      requireSystemAdmin(principal, 'delete links');
      await write(o, principal, (w) => removeLink(w, params.name!));
    },
  });
}
