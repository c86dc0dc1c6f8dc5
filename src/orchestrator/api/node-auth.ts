import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TrellisError } from '../../errors.js';
import { Name, NodeEnrolled, NodeRegistration } from '../../model/index.js';
import { decodeEnrolmentToken } from '../../wire/enrolment-token.js';
import { verifyNodeLogin } from '../auth/challenges.js';
import type { Principal } from '../auth/principal.js';
import { createSession } from '../auth/sessions.js';
import type { Orchestrator } from '../context.js';
import { registerNode } from '../ops/register-node.js';
import {
  countEnrolmentTokenUse,
  getEnrolmentToken,
  getEnrolmentTokenForUse,
  type StoredEnrolmentToken,
} from '../store/repos/enrolment-tokens.js';
import { getNode } from '../store/repos/nodes.js';
import { getResourceUser } from '../store/repos/resource-users.js';
import { route } from './route.js';
import { parseInput } from './validation.js';

const Session = z.object({
  token: z.string(),
  expiresAt: z.string(),
  principal: z.record(z.string(), z.unknown()),
});

export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Why a stored token cannot be used now, naming it; undefined when it can. */
function unusable(t: StoredEnrolmentToken): string | undefined {
  if (t.status === 'revoked') return `enrolment token ${t.id} was revoked at ${t.revokedAt}`;
  if (t.status === 'used') return `enrolment token ${t.id} has already been used (${t.uses} of ${t.maxUses})`;
  if (t.status === 'expired') return `enrolment token ${t.id} expired at ${t.expiresAt}`;
  return undefined;
}

/**
 * How nodes get in without a password and stay in without one: enrolment with a one-off
 * token, then sessions opened by signing a challenge with the node's own key. None of these
 * routes takes a bearer token — they are how a node gets one — so each checks its proof itself.
 */
export function nodeAuthRoutes(app: FastifyInstance, o: Orchestrator): void {
  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/:name/challenge',
    summary: 'A one-time challenge for a registered node to sign with its key',
    tag: 'nodes',
    auth: 'none',
    response: z.object({ challenge: z.string() }),
    handler: async ({ params }) => {
      // Validated as a 400 naming the field: a thrown ZodError would be a 500 (api-fuzz found `:`).
      parseInput(z.strictObject({ name: Name }), params, 'params');
      // Issued for any name: whether a node exists is not told to an anonymous caller.
      return { challenge: o.challenges.issue(params.name!) };
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/:name/login',
    summary: 'Open a session for a registered node with a signature of its own key (no password)',
    tag: 'nodes',
    auth: 'none',
    body: z.strictObject({ challenge: z.string().min(1).max(100), signature: z.string().min(1).max(200) }),
    response: Session,
    handler: async ({ params, body }) => {
      const name = params.name!;
      const fresh = o.challenges.take(name, body.challenge);
      const node = fresh ? await getNode(o.db, name) : undefined;
      const refuse = () =>
        new TrellisError('TRELLIS_ERR_BAD_CREDENTIALS', `node "${name}" could not prove its key`, {
          hint: 'a node whose key or name was reset must register again (enrolment token or password)',
        });
      if (
        !node ||
        node.publicKey === '' ||
        !verifyNodeLogin(node.publicKey, name, body.challenge, body.signature)
      )
        throw refuse();
      const kind = node.kind === 'processor' ? 'switchOwner' : 'hostOwner';
      const owner = await getResourceUser(o.db, node.domain, node.owner);
      if (!owner || owner.kind !== kind) throw refuse();
      const principal: Principal = {
        type: 'resource',
        name: owner.name,
        kind,
        domain: owner.domain,
        node: name,
      };
      const { token, expiresAt } = await createSession(o.db, principal, o.tokenTtlMs);
      return { token, expiresAt: expiresAt.toISOString(), principal };
    },
  });

  route(app, o, {
    method: 'POST',
    url: '/api/v1/nodes/enrol',
    summary: 'Register a new node with an enrolment token instead of a password',
    tag: 'nodes',
    auth: 'none',
    body: z.strictObject({ token: z.string().min(1).max(2048), registration: NodeRegistration }),
    response: NodeEnrolled,
    handler: async ({ body }) => {
      const decoded = decodeEnrolmentToken(body.token);
      if (typeof decoded === 'string')
        throw new TrellisError('TRELLIS_ERR_BAD_CREDENTIALS', decoded, { field: 'body.token' });
      const stored = await getEnrolmentToken(o.db, decoded.id);
      const given = Buffer.from(secretHash(decoded.secret), 'hex');
      if (!stored || !timingSafeEqual(given, Buffer.from(stored.secretHash, 'hex'))) {
        throw new TrellisError(
          'TRELLIS_ERR_BAD_CREDENTIALS',
          `enrolment token ${decoded.id} is not known here`,
          {
            field: 'body.token',
            hint: 'ask an admin for a new one: trellis token create --hostowner NAME',
          },
        );
      }
      const why = unusable(stored);
      if (why)
        throw new TrellisError('TRELLIS_ERR_FORBIDDEN', why, {
          hint: 'ask an admin for a new one: trellis token create …',
        });
      const reg = body.registration;
      if (stored.vm !== null && stored.vm !== reg.name) {
        throw new TrellisError(
          'TRELLIS_ERR_FORBIDDEN',
          `enrolment token ${stored.id} is for node "${stored.vm}", not "${reg.name}"`,
          {
            field: 'body.registration.name',
          },
        );
      }
      const owner = await getResourceUser(o.db, stored.domain, stored.owner);
      if (!owner || owner.kind !== stored.kind) {
        throw new TrellisError(
          'TRELLIS_ERR_FORBIDDEN',
          `enrolment token ${stored.id}: ${stored.kind} ${stored.domain}/${stored.owner} no longer exists`,
        );
      }
      const principal: Principal = {
        type: 'resource',
        name: owner.name,
        kind: owner.kind,
        domain: owner.domain,
        node: reg.name,
      };
      const answer = await registerNode(o, principal, reg, async (w) => {
        // Re-read under a row lock: two nodes racing with a one-use token — one gets in.
        const locked = await getEnrolmentTokenForUse(w.sql, stored.id);
        const late = locked && unusable(locked);
        if (!locked || late)
          throw new TrellisError('TRELLIS_ERR_FORBIDDEN', late ?? `enrolment token ${stored.id} is gone`);
        await countEnrolmentTokenUse(w.sql, stored.id);
        await w.audit({
          action: 'use',
          kind: 'enrolmentToken',
          name: stored.id,
          domain: stored.domain,
          before: null,
          after: { node: reg.name, uses: locked.uses + 1, maxUses: locked.maxUses },
        });
      });
      const { token, expiresAt } = await createSession(o.db, principal, o.tokenTtlMs);
      return { ...answer, session: { token, expiresAt: expiresAt.toISOString() } };
    },
  });
}
