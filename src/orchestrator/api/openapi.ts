import { z } from 'zod';
import type { RegisteredRoute } from './registered-route.js';

const ErrorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        field: { type: 'string' },
        hint: { type: 'string' },
      },
    },
  },
};

function jsonSchema(s: z.ZodType, io: 'input' | 'output'): unknown {
  try {
    return z.toJSONSchema(s, { io, unrepresentable: 'any' });
  } catch {
    return {};
  }
}

/** The OpenAPI 3.1 document, built from the same zod schemas the routes validate with. */
export function openApiDocument(routes: RegisteredRoute[], version: string): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const url = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const params = [...r.url.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const queryParams =
      r.query instanceof z.ZodObject
        ? Object.keys(r.query.shape).map((name) => ({
            name,
            in: 'query',
            required: false,
            schema: { type: 'string' },
          }))
        : [];
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...params, ...queryParams],
      responses: {
        [String(r.status)]: {
          description: 'success',
          ...(r.response && {
            content: { 'application/json': { schema: jsonSchema(r.response, 'output') } },
          }),
        },
        default: { description: 'error', content: { 'application/json': { schema: ErrorSchema } } },
      },
    };
    if (r.auth === 'required') op.security = [{ bearer: [] }];
    if (r.body)
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
      };
    paths[url] = { ...paths[url], [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Trellis orchestrator API', version },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
