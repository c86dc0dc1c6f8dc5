import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TrellisError } from '../../errors.js';
import { LoginAnswer, Name } from '../../model/index.js';
import { clientAddressKey } from '../auth/client-address.js';
import type { Refusal } from '../auth/lockout.js';
import { DUMMY_HASH, verifyPassword } from '../auth/password.js';
import type { Principal } from '../auth/principal.js';
import { createSession } from '../auth/sessions.js';
import type { Orchestrator } from '../context.js';
import { getAdminUser } from '../store/repos/admin-users.js';
import { findResourceUsersNamed, getResourceUser } from '../store/repos/resource-users.js';
import { route } from './route.js';

// Names are lowercase; `Service1` and ` service1` name the user service1, so they log in (and
// are counted) as it.
const LoginName = z.string().max(253).trim().toLowerCase().pipe(Name);
const LoginBody = z.strictObject({
  domain: LoginName.optional(),
  username: LoginName,
  password: z.string().min(1).max(256),
});

/**
 * What failed logins are counted under: the account the name resolves to, whatever form named
 * it (`service1` without a domain, `hello/service1`, `Service1`); a name matching no account by its text.
 */
function accountKey(principal: Principal | undefined, username: string): string {
  if (!principal) return `unknown:${username}`;
  return principal.type === 'admin'
    ? `admin:${principal.name}`
    : `resource:${principal.domain}/${principal.name}`;
}

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

/** 429 saying for how long, and why, so a person knows whether to wait or to look elsewhere. */
function lockedOut(username: string, address: string, r: Refusal): TrellisError {
  const secs = Math.max(1, Math.ceil(r.retryAfterMs / 1000));
  const why =
    r.by === 'account'
      ? `too many failed logins for "${username}" from ${address}`
      : `too many failed logins from ${address}`;
  return new TrellisError('TRELLIS_ERR_LOCKED_OUT', `${why}: retry in ${secs} s`, {
    headers: { 'retry-after': String(secs) },
    hint: `wait ${secs} s; failures are counted per account and client address, and each one past the first few doubles the wait`,
  });
}

export function loginRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'POST',
    url: '/api/v1/login',
    summary: 'Exchange a username and password for a bearer token',
    tag: 'auth',
    auth: 'none',
    body: LoginBody,
    response: LoginAnswer,
    handler: async ({ body, req }) => {
      const account = await findAccount(o, body.domain, body.username);
      const key = accountKey(account?.principal, body.username);
      const address = clientAddressKey(req.ip);
      const who = account ? JSON.stringify(account.principal) : '';
      const ok = await o.loginGate.run(key, address, async () => {
        const refusal = o.lockout.check(key, address);
        if (refusal) throw lockedOut(body.username, address, refusal);
        const right =
          (account !== undefined && o.verified.matches(who, body.password, account.hash)) ||
          (await verifyPassword(body.password, account?.hash ?? DUMMY_HASH));
        if (account && right) o.lockout.succeed(key, address);
        else o.lockout.fail(key, address);
        return account !== undefined && right;
      });
      if (!account || !ok) {
        o.log.warn({ user: key, address }, 'login failed');
        throw new TrellisError('TRELLIS_ERR_BAD_CREDENTIALS', 'wrong username or password');
      }
      o.verified.remember(who, body.password, account.hash);
      const { token, expiresAt } = await createSession(o.db, account.principal, o.tokenTtlMs);
      return { token, expiresAt: expiresAt.toISOString(), principal: account.principal };
    },
  });
}
