import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notFound, TrellisError } from '../../errors.js';
import { EnrolmentTokenInfo, EnrolmentTokenRequest } from '../../model/index.js';
import { encodeEnrolmentToken } from '../../wire/enrolment-token.js';
import { caFingerprint } from '../../wire/fingerprint.js';
import { describePrincipal } from '../auth/principal.js';
import { requireAdmin, requireDomainAdmin, requireSystemAdmin, visibleDomains } from '../auth/rbac.js';
import type { Orchestrator } from '../context.js';
import {
  getEnrolmentToken,
  insertEnrolmentToken,
  listEnrolmentTokens,
  revokeEnrolmentToken,
  type StoredEnrolmentToken,
} from '../store/repos/enrolment-tokens.js';
import { findResourceUsersNamed, getResourceUser } from '../store/repos/resource-users.js';
import { write } from '../write.js';
import { secretHash } from './node-auth.js';
import { route } from './route.js';

const shown = ({ secretHash: _, ...t }: StoredEnrolmentToken) => t;

/** Enrolment tokens: minted by an admin for one owner, handed to a host, spent by its node. */
export function tokenRoutes(app: FastifyInstance, o: Orchestrator): void {
  const fingerprint = caFingerprint(o.ca.certPem);

  route(app, o, {
    method: 'POST',
    url: '/api/v1/tokens',
    summary: 'Mint an enrolment token for a host owner or switch owner (the secret is shown once)',
    tag: 'tokens',
    body: EnrolmentTokenRequest,
    status: 201,
    response: EnrolmentTokenInfo.extend({ token: z.string() }),
    handler: async ({ principal, body, req }) => {
      requireAdmin(principal, 'create enrolment tokens');
      const kind = body.hostOwner !== undefined ? 'hostOwner' : 'switchOwner';
      const name = (body.hostOwner ?? body.switchOwner)!;
      let domain = body.domain;
      if (domain === undefined) {
        const named = (await findResourceUsersNamed(o.db, name)).filter((u) => u.kind === kind);
        if (named.length > 1) {
          throw new TrellisError(
            'TRELLIS_ERR_VALIDATION',
            `${kind} "${name}" exists in several domains (${named.map((u) => u.domain).join(', ')}): say which`,
            { field: 'body.domain' },
          );
        }
        domain = named[0]?.domain;
      }
      const user = domain === undefined ? undefined : await getResourceUser(o.db, domain, name);
      if (!user || user.kind !== kind) throw notFound(kind, name, domain ? ` in domain "${domain}"` : '');
      // A processor serves every domain: only a systemAdmin lets one in.
      if (kind === 'switchOwner') requireSystemAdmin(principal, 'create switchOwner enrolment tokens');
      else requireDomainAdmin(principal, user.domain, 'create enrolment tokens');
      const id = `tok-${randomBytes(8).toString('hex')}`;
      const secret = randomBytes(32).toString('base64url');
      const url = o.publicUrl ?? `${req.protocol}://${req.host}`;
      const stored = await write(o, principal, async (w) => {
        const t = await insertEnrolmentToken(w.sql, {
          id,
          secretHash: secretHash(secret),
          domain: user.domain,
          kind,
          owner: user.name,
          vm: body.vm ?? null,
          maxUses: body.uses,
          expiresAt: new Date(Date.now() + body.ttlSec * 1000).toISOString(),
          createdBy: describePrincipal(principal),
        });
        await w.audit({
          action: 'create',
          kind: 'enrolmentToken',
          name: id,
          domain: user.domain,
          before: null,
          after: shown(t),
        });
        return t;
      });
      return { ...shown(stored), token: encodeEnrolmentToken({ url, ca: fingerprint, id, secret }) };
    },
  });

  route(app, o, {
    method: 'GET',
    url: '/api/v1/tokens',
    summary: 'List enrolment tokens (never their secrets)',
    tag: 'tokens',
    response: z.array(EnrolmentTokenInfo),
    handler: async ({ principal }) => {
      requireAdmin(principal, 'list enrolment tokens');
      return (await listEnrolmentTokens(o.db, visibleDomains(principal))).map(shown);
    },
  });

  route(app, o, {
    method: 'DELETE',
    url: '/api/v1/tokens/:id',
    summary: 'Revoke an enrolment token (kept, marked revoked, for the audit trail)',
    tag: 'tokens',
    status: 204,
    handler: async ({ principal, params }) => {
      requireAdmin(principal, 'revoke enrolment tokens');
      await write(o, principal, async (w) => {
        const t = await getEnrolmentToken(w.sql, params.id!);
        if (!t) throw notFound('enrolment token', params.id!);
        if (t.kind === 'switchOwner') requireSystemAdmin(principal, 'revoke switchOwner enrolment tokens');
        else requireDomainAdmin(principal, t.domain, 'revoke enrolment tokens');
        await revokeEnrolmentToken(w.sql, t.id);
        const after = await getEnrolmentToken(w.sql, t.id);
        await w.audit({
          action: 'update',
          kind: 'enrolmentToken',
          name: t.id,
          domain: t.domain,
          before: shown(t),
          after: after && shown(after),
        });
      });
    },
  });
}
