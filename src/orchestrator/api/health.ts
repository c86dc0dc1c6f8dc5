import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { VERSION } from '../../version.js';
import type { Orchestrator } from '../context.js';
import { openApiDocument } from './openapi.js';
import { route } from './route.js';

export { VERSION };

export function healthRoutes(app: FastifyInstance, o: Orchestrator): void {
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
    handler: async () => openApiDocument(o.routes, VERSION),
  });
}
