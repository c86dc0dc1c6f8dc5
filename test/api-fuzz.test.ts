import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestOrchestrator, type TestOrchestrator } from './support/orchestrator.js';
import { pgliteTarget } from './support/stores.js';
import { votingAppSpec } from './support/voting-app.js';

/**
 * No request, however malformed, may produce a 5xx: random bodies, raw garbage, odd path
 * parameters and queries against every registered route, as admin and anonymously.
 */
const REVOKING = new Set(['/api/v1/logout', '/api/v1/sessions/revoke']);

describe('API robustness', () => {
  let t: TestOrchestrator;
  let admin: string;

  beforeAll(async () => {
    t = await startTestOrchestrator(pgliteTarget);
    admin = await t.login('admin', ADMIN_PASSWORD);
    await t.call('POST', '/api/v1/apply', { token: admin, body: { spec: votingAppSpec() } });
  });
  afterAll(async () => {
    await t?.close();
  });

  const segment = fc.oneof(
    fc.constantFrom(
      'voting-app',
      'voting-frontend',
      'client',
      'server',
      'aws-p1',
      'aws-p1--gcp-p1',
      'nope',
      '%00',
      '..',
      'A',
    ),
    fc.string({ maxLength: 12 }).map(encodeURIComponent),
  );
  const query = fc.dictionary(
    fc.constantFrom('from', 'to', 'contract', 'domain', 'limit', 'x'),
    fc.string({ maxLength: 8 }),
    {
      maxKeys: 4,
    },
  );

  it('answers every random request below 500', async () => {
    // The event stream answers 200 and then never ends (that is its job): a request that
    // reaches it would hang the property, so it is fuzzed by its own tests, not here.
    const routes = t.orch.ctx.routes.filter((r) => r.url !== '/api/v1/events');
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: routes.length - 1 }),
        fc.array(segment, { minLength: 3, maxLength: 3 }),
        query,
        fc.oneof(fc.jsonValue(), fc.constant(undefined)),
        fc.boolean(),
        async (i, segs, q, body, authed) => {
          const r = routes[i]!;
          let n = 0;
          const path = r.url.replace(/:[A-Za-z]+/g, () => segs[n++ % segs.length]!);
          const qs = new URLSearchParams(q).toString();
          const res = await t.call(r.method, `${path}${qs ? `?${qs}` : ''}`, {
            ...(authed && { token: admin }),
            ...(body !== undefined && r.method !== 'GET' && { body }),
          });
          expect(res.status, `${r.method} ${path} → ${JSON.stringify(res.body)}`).toBeLessThan(500);
          if (res.status >= 400) expect(res.body.error.message).toEqual(expect.any(String));
          // Logout and session revocation do their job on the admin's token: take a new one.
          if (res.status < 300 && REVOKING.has(r.url)) admin = await t.login('admin', ADMIN_PASSWORD);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('answers a node challenge for a name that cannot exist with 400, not 500 (found by the property above)', async () => {
    const res = await t.call('POST', '/api/v1/nodes/%3A/challenge');
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('params.name');
  });

  it('answers raw garbage bodies with 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (raw) => {
        const res = await t.call('PUT', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
          token: admin,
          rawBody: raw,
        });
        expect(res.status).toBeLessThan(500);
        expect(res.status).toBeGreaterThanOrEqual(200);
      }),
      { numRuns: 200 },
    );
    // The role is untouched by all that garbage unless a body happened to be a valid no-op.
    const role = await t.call('GET', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
      token: admin,
    });
    expect(role.body.role.users).toEqual(['http-proxy']);
  });
});
