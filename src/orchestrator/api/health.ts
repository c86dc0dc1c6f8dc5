import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { VERSION } from '../../version.js';
import type { Orchestrator } from '../context.js';
import { openApiDocument } from './openapi.js';
import { route } from './route.js';

export { VERSION };

export function healthRoutes(app: FastifyInstance, o: Orchestrator): void {
  let built: { routes: number; doc: unknown } | undefined;
  route(app, o, {
    method: 'GET',
    url: '/api/v1/health',
    summary: 'Liveness and store check',
    tag: 'meta',
    auth: 'none',
    response: z.object({
      status: z.literal('ok'),
      store: z.enum(['pglite', 'postgres']),
      version: z.string(),
    }),
    handler: async () => {
      await o.db.query('SELECT 1');
      return { status: 'ok', store: o.db.kind, version: VERSION };
    },
  });
  route(app, o, {
    method: 'GET',
    url: '/api/v1/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document',
    tag: 'meta',
    auth: 'none',
    response: z.looseObject({
      openapi: z.literal('3.1.0'),
      info: z.looseObject({}),
      paths: z.looseObject({}),
    }),
    // Built once per route set, not per request: it answers anyone (auth 'none'), and building
    // its 92 KB from every route's zod schemas took 16-37 ms of the orchestrator's one thread, an
    // amplification a hostile client could repeat (curl, end to end: 16-37 ms, then 4-5 ms).
    handler: async () => {
      if (built?.routes !== o.routes.length)
        built = { routes: o.routes.length, doc: openApiDocument(o.routes, VERSION) };
      return built.doc;
    },
  });
}
