import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TrellisError } from '../../errors.js';
import { Name } from '../../model/index.js';
import { DUMMY_HASH, verifyPassword } from '../auth/password.js';
import type { Principal } from '../auth/principal.js';
import { createSession } from '../auth/sessions.js';
import type { Orchestrator } from '../context.js';
import { getAdminUser } from '../store/repos/admin-users.js';
import { findResourceUsersNamed, getResourceUser } from '../store/repos/resource-users.js';
import { route } from './route.js';

const LoginBody = z.strictObject({
  domain: Name.optional(),
  username: Name,
  password: z.string().min(1).max(256),
});

/** The account a login names, with its hash; `undefined` when none matches (checked in constant time anyway). */
async function findAccount(o: Orchestrator, domain: string | undefined, username: string) {
  if (domain !== undefined) {
    const u = await getResourceUser(o.db, domain, username);
    if (u)
      return {
        hash: u.passwordHash,
        principal: { type: 'resource', name: u.name, kind: u.kind, domain: u.domain } as Principal,
      };
    return undefined;
  }
  const admin = await getAdminUser(o.db, username);
  if (admin) {
    return {
      hash: admin.passwordHash,
      principal: { type: 'admin', name: admin.name, role: admin.role, domain: admin.domain } as Principal,
    };
  }
  const named = await findResourceUsersNamed(o.db, username);
  if (named.length > 1) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `"${username}" exists in several domains (${named.map((u) => u.domain).join(', ')}): say which`,
      { field: 'body.domain' },
    );
  }
  const u = named[0];
  return (
    u && {
      hash: u.passwordHash,
      principal: { type: 'resource', name: u.name, kind: u.kind, domain: u.domain } as Principal,
    }
  );
}

export function loginRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'POST',
    url: '/api/v1/login',
    summary: 'Exchange a username and password for a bearer token',
    tag: 'auth',
    auth: 'none',
    body: LoginBody,
    response: z.object({
      token: z.string(),
      expiresAt: z.string(),
      principal: z.record(z.string(), z.unknown()),
    }),
    handler: async ({ body }) => {
      const key = `${body.domain ?? '*'}/${body.username}`;
      const wait = o.lockout.retryAfterMs(key);
      if (wait > 0) {
        const secs = Math.ceil(wait / 1000);
        throw new TrellisError(
          'TRELLIS_ERR_LOCKED_OUT',
          `too many failed logins for "${body.username}": retry in ${secs} s`,
          {
            headers: { 'retry-after': String(secs) },
            hint: `wait ${secs} s; 5 failures within a minute lock a user`,
          },
        );
      }
      const account = await findAccount(o, body.domain, body.username);
      const who = account ? JSON.stringify(account.principal) : '';
      const ok =
        (account !== undefined && o.verified.matches(who, body.password, account.hash)) ||
        (await verifyPassword(body.password, account?.hash ?? DUMMY_HASH));
      if (!account || !ok) {
        o.lockout.fail(key);
        o.log.warn({ user: key }, 'login failed');
        throw new TrellisError('TRELLIS_ERR_BAD_CREDENTIALS', 'wrong username or password');
      }
      o.lockout.succeed(key);
      o.verified.remember(who, body.password, account.hash);
      const { token, expiresAt } = await createSession(o.db, account.principal, o.tokenTtlMs);
      return { token, expiresAt: expiresAt.toISOString(), principal: account.principal };
    },
  });
}
