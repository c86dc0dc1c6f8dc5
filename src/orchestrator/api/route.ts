import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { TrellisError } from '../../errors.js';
import type { Principal } from '../auth/principal.js';
import { lookupSession } from '../auth/sessions.js';
import type { Orchestrator } from '../context.js';
import { operationIdOf } from './operation-ids.js';
import type { Method } from './registered-route.js';
import { parseInput } from './validation.js';

export interface RouteContext<B, Q> {
  principal: Principal;
  body: B;
  query: Q;
  params: Record<string, string>;
  req: FastifyRequest;
  reply: FastifyReply;
}

/** One REST operation: its schemas feed both validation and the OpenAPI document. */
export interface RouteDef<B extends z.ZodType, Q extends z.ZodType> {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  /** 'none' only for login, health and the OpenAPI document itself. */
  auth?: 'none' | 'required';
  body?: B;
  query?: Q;
  response?: z.ZodType;
  /** The response's media type when it is not JSON (the event stream). */
  contentType?: 'text/event-stream';
  status?: number;
  handler: (ctx: RouteContext<z.output<B>, z.output<Q>>) => Promise<unknown>;
}

const ANONYMOUS: Principal = { type: 'admin', name: 'anonymous', role: 'domainAdmin', domain: null };

/** Registers a route on Fastify and records it for the OpenAPI document. */
export function route<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodObject>(
  app: FastifyInstance,
  o: Orchestrator,
  def: RouteDef<B, Q>,
): void {
  const auth = def.auth ?? 'required';
  const status = def.status ?? 200;
  const operationId = operationIdOf(def.method, def.url);
  // Under test (TRELLIS_CHECK_RESPONSES=1, which vitest.config.ts sets for every suite) each
  // JSON answer is checked against the schema the OpenAPI document declares for it: a route whose
  // answer drifts from its documented shape fails the suite that called it, with a 500 naming it.
  const check = process.env.TRELLIS_CHECK_RESPONSES === '1' && def.response && !def.contentType;
  o.routes.push({
    operationId,
    method: def.method,
    url: def.url,
    summary: def.summary,
    tag: def.tag,
    auth,
    ...(def.body && { body: def.body }),
    ...(def.query && { query: def.query }),
    ...(def.response && { response: def.response }),
    ...(def.contentType && { contentType: def.contentType }),
    status,
  });
  app.route({
    method: def.method,
    url: def.url,
    handler: async (req, reply) => {
      checkParams(req.params as Record<string, string>);
      const principal = auth === 'none' ? ANONYMOUS : await authenticate(o, req);
      const body = def.body ? parseInput(def.body, req.body, 'body') : undefined;
      if (
        !def.body &&
        req.body !== undefined &&
        req.body !== null &&
        def.method !== 'GET' &&
        def.method !== 'DELETE'
      ) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `${def.method} ${def.url} takes no body`, {
          field: 'body',
        });
      }
      const query = parseInput(def.query ?? z.object({}), req.query ?? {}, 'query');
      const out = await def.handler({
        principal,
        body: body as z.output<B>,
        query: query as z.output<Q>,
        params: req.params as Record<string, string>,
        req,
        reply,
      });
      if (check && !reply.sent) checkResponse(def, operationId, out);
      reply.code(status);
      return out ?? null;
    },
  });
}

function checkResponse(def: RouteDef<z.ZodType, z.ZodType>, operationId: string, out: unknown): void {
  const r = def.response!.safeParse(JSON.parse(JSON.stringify(out ?? null)));
  if (r.success) return;
  const issue = r.error.issues[0]!;
  throw new TrellisError(
    'TRELLIS_ERR_INTERNAL',
    `the answer of ${def.method} ${def.url} (${operationId}) does not match its declared response schema: ` +
      `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
}

/**
 * Path parameters name entities, whose names are short printable ASCII; anything else (a NUL
 * byte, a 10 kB segment) cannot exist, so it is a 404 here rather than an error in the store.
 */
function checkParams(params: Record<string, string>): void {
  for (const [key, value] of Object.entries(params ?? {})) {
    if (!/^[\x21-\x7e]{1,253}$/.test(value)) {
      throw new TrellisError(
        'TRELLIS_ERR_NOT_FOUND',
        `no ${key} named ${JSON.stringify(value.slice(0, 64))}`,
        {
          field: `params.${key}`,
        },
      );
    }
  }
}

/** The bearer token a request carries (its presence and form are checked by `route`). */
export function bearerToken(req: FastifyRequest): string {
  const header = req.headers.authorization;
  if (!header)
    throw new TrellisError('TRELLIS_ERR_UNAUTHENTICATED', 'missing Authorization: Bearer <token> header');
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m)
    throw new TrellisError(
      'TRELLIS_ERR_UNAUTHENTICATED',
      'the Authorization header must read "Bearer <token>"',
    );
  return m[1]!;
}

async function authenticate(o: Orchestrator, req: FastifyRequest): Promise<Principal> {
  const principal = await lookupSession(o.db, bearerToken(req));
  if (!principal) {
    throw new TrellisError('TRELLIS_ERR_UNAUTHENTICATED', 'the token is invalid or has expired', {
      hint: 'log in again with `trellis login`',
    });
  }
  return principal;
}
