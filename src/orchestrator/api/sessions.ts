import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound, TrellisError } from '../../errors.js';
import { Name } from '../../model/index.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import { requireAdmin, requireDomainAdmin, requireSystemAdmin } from '../auth/rbac.js';
import { deleteSession, deleteSessionsOf } from '../auth/sessions.js';
import type { Orchestrator } from '../context.js';
import { getAdminUser } from '../store/repos/admin-users.js';
import { getResourceUser } from '../store/repos/resource-users.js';
import { write } from '../write.js';
import { bearerToken, route } from './route.js';

const RevokeBody = z.strictObject({
  /** An admin user, or with `domain` a resource user of that domain. */
  username: Name,
  domain: Name.optional(),
});

export function sessionRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'POST',
    url: '/api/v1/logout',
    summary: 'Revoke the calling token',
    tag: 'auth',
    status: 204,
    handler: async ({ req, principal }) => {
      const token = bearerToken(req);
      await deleteSession(o.db, token);
      o.openStreams.closeToken(token);
      o.log.info({ principal: describePrincipal(principal) }, 'logged out');
      return null;
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/sessions/revoke',
    summary:
      "Revoke every session of a user (admins: systemAdmin or themselves; resource users: their domain's admins)",
    tag: 'auth',
    body: RevokeBody,
    response: z.object({ username: z.string(), domain: z.string().nullable(), revoked: z.number() }),
    handler: async ({ principal, body }) => {
      requireAdmin(principal, 'revoke sessions');
      const { username, domain } = body;
      if (domain !== undefined) requireDomainAdmin(principal, domain, 'revoke sessions');
      else if (principal.name !== username)
        requireSystemAdmin(principal, `revoke the sessions of admin user "${username}"`);
      const isUser = (p: Principal) =>
        domain === undefined
          ? p.type === 'admin' && p.name === username
          : p.type === 'resource' && p.domain === domain && p.name === username;
      const revoked = await write(o, principal, async (w) => {
        if (domain !== undefined) {
          if (!(await getResourceUser(w.sql, domain, username)))
            throw notFound('resource user', username, ` in domain "${domain}"`);
        } else if (!(await getAdminUser(w.sql, username))) {
          throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `admin user "${username}" not found`, {
            hint: 'for a host owner or switch owner, give its domain',
          });
        }
        const n = await deleteSessionsOf(w.sql, isUser);
        await w.audit({
          action: 'delete',
          kind: 'session',
          name: username,
          domain: domain ?? null,
          before: { sessions: n },
          after: null,
        });
        return n;
      });
      // After the commit: a stream cut earlier could reconnect on a token not yet deleted.
      o.openStreams.closeWhere(isUser);
      return { username, domain: domain ?? null, revoked };
    },
  });
}
