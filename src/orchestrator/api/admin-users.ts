import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound, TrellisError } from '../../errors.js';
import { AdminUser, AdminUserCreate, PasswordChange } from '../../model/index.js';
import { hashPassword } from '../auth/password.js';
import { requireAdmin, requireSystemAdmin, visibleDomains } from '../auth/rbac.js';
import { deleteSessionsOf } from '../auth/sessions.js';
import type { Orchestrator } from '../context.js';
import { domainOr404 } from '../ops/domains.js';
import {
  countSystemAdmins,
  deleteAdminUser,
  getAdminUser,
  insertAdminUser,
  listAdminUsers,
  setAdminPassword,
} from '../store/repos/admin-users.js';
import { write } from '../write.js';
import { route } from './route.js';

export function adminUserRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'GET',
    url: '/api/v1/admin-users',
    summary: 'List admin users (a domainAdmin sees those of its domain)',
    tag: 'admin-users',
    response: z.array(AdminUser),
    handler: async ({ principal }) => {
      requireAdmin(principal, 'list admin users');
      return listAdminUsers(o.db, visibleDomains(principal));
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/admin-users',
    summary: 'Create an admin user',
    tag: 'admin-users',
    body: AdminUserCreate,
    status: 201,
    response: AdminUser,
    handler: async ({ principal, body }) => {
      requireSystemAdmin(principal, 'create admin users');
      const hash = await hashPassword(body.password);
      return write(o, principal, async (w) => {
        if (body.domain) await domainOr404(w.sql, body.domain);
        if (await getAdminUser(w.sql, body.name)) {
          throw new TrellisError('TRELLIS_ERR_ALREADY_EXISTS', `admin user "${body.name}" already exists`, {
            field: 'body.name',
          });
        }
        const user: AdminUser = { name: body.name, role: body.role, domain: body.domain };
        await insertAdminUser(w.sql, user, hash);
        await w.audit({
          action: 'create',
          kind: 'adminUser',
          name: user.name,
          domain: user.domain,
          before: null,
          after: user,
        });
        return user;
      });
    },
  });

  route(app, o, {
    method: 'PUT',
    url: '/api/v1/admin-users/:name/password',
    summary: "Change an admin user's password (your own, or anyone's as systemAdmin)",
    tag: 'admin-users',
    body: PasswordChange,
    status: 204,
    handler: async ({ principal, params, body }) => {
      requireAdmin(principal, 'change admin passwords');
      if (principal.name !== params.name)
        requireSystemAdmin(principal, `change the password of "${params.name}"`);
      const hash = await hashPassword(body.password);
      await write(o, principal, async (w) => {
        const user = await getAdminUser(w.sql, params.name!);
        if (!user) throw notFound('admin user', params.name!);
        await setAdminPassword(w.sql, user.name, hash);
        await deleteSessionsOf(w.sql, (p) => p.type === 'admin' && p.name === user.name);
        const { passwordHash: _, ...shown } = user;
        await w.audit({
          action: 'update',
          kind: 'adminUser',
          name: user.name,
          domain: user.domain,
          before: shown,
          after: { ...shown, password: 'changed' },
        });
      });
    },
  });

  route(app, o, {
    method: 'DELETE',
    url: '/api/v1/admin-users/:name',
    summary: 'Delete an admin user (never the last systemAdmin)',
    tag: 'admin-users',
    status: 204,
    handler: async ({ principal, params }) => {
      requireSystemAdmin(principal, 'delete admin users');
      await write(o, principal, async (w) => {
        const user = await getAdminUser(w.sql, params.name!);
        if (!user) throw notFound('admin user', params.name!);
        if (user.role === 'systemAdmin' && (await countSystemAdmins(w.sql)) <= 1) {
          throw new TrellisError(
            'TRELLIS_ERR_CONFLICT',
            `"${user.name}" is the last systemAdmin; create another one first`,
          );
        }
        await deleteAdminUser(w.sql, user.name);
        await deleteSessionsOf(w.sql, (p) => p.type === 'admin' && p.name === user.name);
        const { passwordHash: _, ...shown } = user;
        await w.audit({
          action: 'delete',
          kind: 'adminUser',
          name: user.name,
          domain: user.domain,
          before: shown,
          after: null,
        });
      });
    },
  });
}
