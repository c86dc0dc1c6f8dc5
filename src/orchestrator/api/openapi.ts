import { z } from 'zod';
import * as model from '../../model/index.js';
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

type Registry = z.core.$ZodRegistry<{ id: string }>;

const pascal = (id: string) => id[0]!.toUpperCase() + id.slice(1);

/**
 * Named schemas for `components.schemas`: every zod schema the model exports, under its export
 * name, and each route's own body and response under its operationId. Request bodies are
 * converted as input (defaults optional), answers as output (defaults present), so the two live
 * in separate registries and inputs are named `…Input` / `…Request`.
 */
function registries(routes: RegisteredRoute[]) {
  const out: Registry = z.registry<{ id: string }>();
  const input: Registry = z.registry<{ id: string }>();
  for (const [name, value] of Object.entries(model)) {
    if (value instanceof z.ZodType && /^[A-Z]/.test(name)) {
      out.add(value, { id: name });
      input.add(value, { id: `${name}Input` });
    }
  }
  for (const r of routes) {
    if (r.response && !out.has(r.response)) out.add(r.response, { id: `${pascal(r.operationId)}Response` });
    if (r.body && !input.has(r.body)) input.add(r.body, { id: `${pascal(r.operationId)}Request` });
  }
  return { out, input };
}

const ref = (reg: Registry, s: z.ZodType) => ({ $ref: `#/components/schemas/${reg.get(s)!.id}` });

function componentSchemas(reg: Registry, io: 'input' | 'output'): Record<string, unknown> {
  const doc = z.toJSONSchema(reg, { io, unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  const schemas: Record<string, unknown> = {};
  // Each component is its own document to zod; inside components it is not, so the `$schema`
  // (and any `$id`) lines go.
  for (const [id, schema] of Object.entries(doc.schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as Record<string, unknown>;
    schemas[id] = rest;
  }
  return schemas;
}

const ERROR_RESPONSE = {
  description: 'refused or failed: `error.code` says which, `error.message` what was wrong',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};

/** The components that `paths` reach, directly or through other components (the model exports more). */
function usedOnly(paths: unknown, all: Record<string, unknown>): Record<string, unknown> {
  const used = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) visit(x);
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === '$ref' && typeof x === 'string' && x.startsWith('#/components/schemas/')) {
          const id = x.slice('#/components/schemas/'.length);
          if (!used.has(id)) {
            used.add(id);
            visit(all[id]);
          }
        } else visit(x);
      }
    }
  };
  visit(paths);
  return Object.fromEntries(Object.entries(all).filter(([id]) => used.has(id)));
}

/** The OpenAPI 3.1 document, built from the same zod schemas the routes validate with. */
export function openApiDocument(routes: RegisteredRoute[], version: string): unknown {
  const reg = registries(routes);
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
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      parameters: [...params, ...queryParams],
      responses: {
        [String(r.status)]: {
          description: r.status === 204 ? 'done; no content' : 'success',
          ...(r.response && {
            content: { [r.contentType ?? 'application/json']: { schema: ref(reg.out, r.response) } },
          }),
        },
        '4XX': ERROR_RESPONSE,
        '5XX': ERROR_RESPONSE,
      },
    };
    // An empty list says "no credentials": login, health, the CA and this document.
    op.security = r.auth === 'required' ? [{ bearer: [] }] : [];
    if (r.body)
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: ref(reg.input, r.body) } },
      };
    paths[url] = { ...paths[url], [r.method.toLowerCase()]: op };
  }
  const schemas = usedOnly(paths, {
    Error: ErrorSchema,
    ...componentSchemas(reg.out, 'output'),
    ...componentSchemas(reg.input, 'input'),
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'Trellis orchestrator API',
      version,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // Relative: the document describes the orchestrator that serves it, at whatever address.
    servers: [{ url: '/' }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas,
    },
    paths,
  };
}
