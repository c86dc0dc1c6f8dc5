import { createConfig, lintFromString } from '@redocly/openapi-core';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OPERATION_IDS } from '../src/orchestrator/api/operation-ids.js';
import { route } from '../src/orchestrator/api/route.js';
import type { Orchestrator } from '../src/orchestrator/context.js';
import { startTestOrchestrator, type TestOrchestrator } from './support/orchestrator.js';
import { pgliteTarget } from './support/stores.js';

// Issue 13, must-show 3: the OpenAPI document lints clean with a kept linter (Redocly's
// `recommended` rules), names every operation once, and declares a response schema for every
// answer with a body. That each real answer validates against its schema is checked by every
// suite: vitest.config.ts sets TRELLIS_CHECK_RESPONSES=1, and route() then refuses (500) an
// answer that does not match.
type Doc = {
  paths: Record<
    string,
    Record<string, { operationId?: string; responses: Record<string, { content?: unknown }> }>
  >;
  components: { schemas: Record<string, unknown> };
};

describe('the OpenAPI document', () => {
  let t: TestOrchestrator;
  let doc: Doc;
  let source: string;

  beforeAll(async () => {
    t = await startTestOrchestrator(pgliteTarget);
    const res = await t.call('GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    doc = res.body as Doc;
    source = JSON.stringify(doc);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("lints clean under Redocly's recommended rules: no error, no warning", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source, absoluteRef: 'openapi.json', config });
    const lines = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(lines).toEqual([]);
  });

  it('gives every operation an operationId, each once, from the one table', () => {
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({
        key: `${method.toUpperCase()} ${path}`,
        id: op.operationId,
      })),
    );
    expect(ops.length).toBe(Object.keys(OPERATION_IDS).length);
    expect(ops.filter((o) => !o.id)).toEqual([]);
    const ids = ops.map((o) => o.id);
    expect(new Set(ids).size).toBe(ids.length);
    // No stale name: every table entry is a route the orchestrator serves.
    const served = new Set(ops.map((o) => o.key.replace(/\{([A-Za-z]+)\}/g, ':$1')));
    expect(Object.keys(OPERATION_IDS).filter((k) => !served.has(k))).toEqual([]);
  });

  it('declares a response schema for every answer that has a body, as a component', () => {
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        for (const [status, r] of Object.entries(op.responses)) {
          if (status.startsWith('2') && status !== '204' && !r.content)
            missing.push(`${method} ${path} ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['Error', 'FabricNode', 'Contract', 'DenialView', 'NamedFlowTableReport']),
    );
  });
});

describe('response checking (TRELLIS_CHECK_RESPONSES=1)', () => {
  it('answers 500 naming the route and the field when an answer drifts from its declared schema', async () => {
    expect(process.env.TRELLIS_CHECK_RESPONSES).toBe('1');
    const app = Fastify();
    const o = { routes: [] } as unknown as Orchestrator;
    route(app, o, {
      method: 'GET',
      url: '/api/v1/health',
      summary: 'a health route whose answer lies about its shape',
      tag: 'meta',
      auth: 'none',
      response: z.object({ status: z.literal('ok') }),
      handler: async () => ({ status: 'degraded' }),
    });
    const res = await app.inject({ method: 'GET', url: '/api/v1/health' });
    await app.close();
    expect(res.statusCode).toBe(500);
    expect(res.body).toContain(
      'GET /api/v1/health (getHealth) does not match its declared response schema: status',
    );
  });
});
