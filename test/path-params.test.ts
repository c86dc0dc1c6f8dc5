import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contract } from '../src/model/index.js';
import { upsertRole } from '../src/orchestrator/store/repos/contracts.js';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from './support/orchestrator.js';
import { storeTargets } from './support/stores.js';
import { votingAppSpec } from './support/voting-app.js';

// Issue 11 finding 5: path params the router cannot meet were stored (200 from the API, exit 0
// from apply) and then every flow 502'd, or the bundle endpoint answered 500.
const ROLE = '/api/v1/domains/voting-app/contracts/voting-frontend/roles';
const LOOP = Array.from({ length: 16 }, (_, i) => (i % 2 === 0 ? 'aws-p2' : 'gcp-p1'));

describe.each(storeTargets())('path params checked when written, on $name', (target) => {
  let t: TestOrchestrator;
  let admin: string;
  let proxy: string;
  const passwords = {
    'voting-app/http-proxy': 'http-proxy-password',
    'voting-app/voting-svc': 'voting-svc-password',
    'infra/fabric-ops': 'fabric-ops-password',
  };
  const put = (role: 'client' | 'server', pathParams: unknown) =>
    t.call('PUT', `${ROLE}/${role}`, { token: admin, body: { pathParams } });
  const paramsOf = async (role: 'client' | 'server') =>
    (await t.call('GET', `${ROLE}/${role}`, { token: admin })).body.role.pathParams;

  beforeAll(async () => {
    t = await startTestOrchestrator(target);
    admin = await t.login('admin', ADMIN_PASSWORD);
    const applied = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: votingAppSpec(), passwords },
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    // The lab's topology: aws-p1 — aws-p2 — gcp-p1 and aws-p1 — gcp-p1; http-proxy's VM at
    // aws-p1, voting-svc's at gcp-p1. Addresses from this test's loopback range.
    const ops = await t.login('fabric-ops', passwords['infra/fabric-ops'], 'infra');
    for (const [i, name] of ['aws-p1', 'aws-p2', 'gcp-p1', 'azr-p1'].entries()) {
      const r = await t.call('POST', '/api/v1/nodes/register', {
        token: ops,
        body: { name, addresses: [`127.0.91.${i + 1}`], publicKey: publicKeyPem() },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    proxy = await t.login('http-proxy', passwords['voting-app/http-proxy'], 'voting-app');
    const svc = await t.login('voting-svc', passwords['voting-app/voting-svc'], 'voting-app');
    for (const [token, name, at, addr] of [
      [proxy, 'aws-11', 'aws-p1', '127.0.91.11'],
      [svc, 'gcp-11', 'gcp-p1', '127.0.91.21'],
    ] as const) {
      const r = await t.call('POST', '/api/v1/nodes/register', {
        token,
        body: { name, addresses: [addr], publicKey: publicKeyPem(), processors: [at] },
      });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses transit aws-p2 with avoid [aws-p2] with 422 naming the field (was 200, then every flow 502)', async () => {
    const res = await put('server', { transit: 'aws-p2', avoid: ['aws-p2'] });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      field: 'body.pathParams.avoid[0]',
      message: 'server role: transit aws-p2 is also in avoid; a path cannot both visit and avoid it',
    });
    expect(res.body.error.hint).toContain('constraint avoid');
    expect(await paramsOf('server')).toEqual({});
  });

  it("refuses an avoid that contradicts the other role's transit, merged as the router merges", async () => {
    expect((await put('client', { transit: ['aws-p2'] })).status).toBe(200);
    const res = await put('server', { avoid: ['azr-p1', 'aws-p2'] });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      field: 'body.pathParams.avoid[1]',
      message:
        "server role: avoid aws-p2 is in the client role's transit; a path cannot both visit and avoid it",
    });
    expect((await put('client', {})).status).toBe(200);
  });

  it('refuses a transit list that revisits processors ([aws-p2, gcp-p1]×8 made the bundle endpoint answer 500)', async () => {
    const res = await put('client', { transit: LOOP });
    expect(res.status).toBe(422);
    expect(res.body.error.field).toBe('body.pathParams.transit[2]');
    expect(res.body.error.message).toContain('transit lists aws-p2 twice (transit[0] and transit[2])');
  });

  it('refuses a maxHops no topology can meet with the transit, counting links', async () => {
    const res = await put('client', { transit: ['aws-p1', 'aws-p2', 'gcp-p1'], maxHops: 1 });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ field: 'body.pathParams.maxHops' });
    expect(res.body.error.message).toContain(
      'maxHops 1 is fewer links than transit [aws-p1, aws-p2, gcp-p1] needs',
    );
  });

  it("accepts maxHops 1 with transit aws-p2 but warns that today's topology routes none of its flows", async () => {
    // aws-p1 → aws-p2 → gcp-p1 is two links: fine on another topology, refused on this one.
    const res = await put('client', { transit: 'aws-p2', maxHops: 1 });
    expect(res.status).toBe(200);
    expect(res.body.warnings).toEqual([
      'contract "voting-frontend": no path today from aws-11 (at aws-p1) to gcp-11 (at gcp-p1): no path from aws-p1 to gcp-p1 via [aws-p2] within maxHops 1 (the shortest needs 2); its flows are refused until the topology or the path params change',
    ]);
    const ok = await put('client', { transit: 'aws-p2', maxHops: 2 });
    expect(ok.status).toBe(200);
    expect(ok.body.warnings).toBeUndefined();
    expect((await put('client', {})).status).toBe(200);
  });

  it('answers the bundle with that contract refused when a stored path is longer than a ticket carries (was 500)', async () => {
    // Params stored before they were checked when written (an older orchestrator's store).
    const c: Contract = (
      await t.call('GET', '/api/v1/domains/voting-app/contracts/voting-frontend', { token: admin })
    ).body;
    await upsertRole(t.orch.ctx.db, c.id, {
      name: 'client',
      users: ['http-proxy'],
      pathParams: { transit: LOOP },
    });
    await upsertRole(t.orch.ctx.db, c.id, { name: 'server', users: ['voting-svc'], pathParams: {} });
    try {
      const res = await t.call('GET', '/api/v1/nodes/aws-11/bundle', { token: proxy });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      const entry = (name: string) => res.body.client.find((e: { contract: string }) => e.contract === name);
      const [target] = entry('voting-frontend').targets;
      expect(target.token).toBeUndefined();
      expect(target.error).toContain('fits in a flow ticket, which carries at most 16 processors (15 links)');
      // The rest of the bundle is unaffected: result-frontend's server is not registered, so no target at all.
      expect(entry('result-frontend').targets).toEqual([]);
    } finally {
      await upsertRole(t.orch.ctx.db, c.id, { name: 'client', users: ['http-proxy'], pathParams: {} });
    }
  });

  it('refuses contradictory params in POST /apply with the field of the spec, and changes nothing', async () => {
    const spec = votingAppSpec();
    const contracts = spec.domains[0]!.contracts!;
    const vf = contracts.find((c) => c.name === 'voting-frontend')!;
    vf.client = { ...vf.client, pathParams: { transit: 'aws-p2', avoid: ['aws-p2'] } };
    const res = await t.call('POST', '/api/v1/apply', { token: admin, body: { spec, passwords } });
    expect(res.status).toBe(422);
    expect(res.body.error.field).toMatch(/^domains\[0\]\.contracts\[\d+\]\.client\.pathParams\.avoid\[0\]$/);
    expect(res.body.error.message).toContain('transit aws-p2 is also in avoid');
    expect(await paramsOf('client')).toEqual({});
  });

  it('checks both roles of one apply against each other as they end up, not as they were', async () => {
    // Client transit aws-p2 → avoid, server avoid aws-p2 → transit: each alone contradicts
    // the other's old params, the final pair is fine.
    await put('client', { transit: 'aws-p2' });
    await put('server', { avoid: ['azr-p1'] });
    const spec = votingAppSpec();
    const vf = spec.domains[0]!.contracts!.find((c) => c.name === 'voting-frontend')!;
    vf.client = { ...vf.client, pathParams: { avoid: ['azr-p1'] } };
    vf.server = { ...vf.server, pathParams: { transit: 'aws-p2' } };
    const res = await t.call('POST', '/api/v1/apply', { token: admin, body: { spec, passwords } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.warnings).toEqual([]);
    expect(await paramsOf('server')).toEqual({ transit: 'aws-p2' });
  });
});
