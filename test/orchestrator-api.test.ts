import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from './support/orchestrator.js';
import { storeTargets } from './support/stores.js';
import { SEED_CONTRACTS, votingAppSpec } from './support/voting-app.js';

const TRANSIT = { role: 'server' as const, contract: 'voting-frontend', transit: 'aws-p2' };

describe.each(storeTargets())('orchestrator API on $name', (target) => {
  let t: TestOrchestrator;
  let admin: string;
  const logLines: string[] = [];
  const passwords = {
    'voting-app/http-proxy': 'http-proxy-password',
    'voting-app/worker': 'worker-password-1',
    'infra/fabric-ops': 'fabric-ops-password',
  };

  beforeAll(async () => {
    t = await startTestOrchestrator(target, { log: (l) => logLines.push(l) });
    admin = await t.login('admin', ADMIN_PASSWORD);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers health and serves an OpenAPI document listing its endpoints', async () => {
    const h = await t.call('GET', '/api/v1/health');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', store: target.name });
    const doc = await t.call('GET', '/api/v1/openapi.json');
    expect(doc.body.openapi).toBe('3.1.0');
    for (const p of [
      '/api/v1/login',
      '/api/v1/domains/{domain}/contracts/{name}/roles/{role}',
      '/api/v1/paths',
      '/api/v1/audit',
    ]) {
      expect(Object.keys(doc.body.paths)).toContain(p);
    }
  });

  it('applies the Voting App fabric file: 6 contracts with the seed roles and unique 32-bit IDs', async () => {
    const res = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: votingAppSpec(), passwords },
    });
    expect(res.status).toBe(200);
    expect(res.body.changes.length).toBeGreaterThan(20);
    // Users without a password in the secrets are given a generated one, returned once.
    expect(Object.keys(res.body.generatedPasswords)).toContain('voting-app/voting-svc');
    expect(Object.keys(res.body.generatedPasswords)).not.toContain('voting-app/http-proxy');

    const contracts = (await t.call('GET', '/api/v1/contracts?domain=voting-app', { token: admin })).body;
    expect(contracts).toHaveLength(6);
    const ids = new Set(contracts.map((c: { id: number }) => c.id));
    expect(ids.size).toBe(6);
    for (const c of contracts) {
      expect(c.id).toBeGreaterThanOrEqual(1);
      expect(c.id).toBeLessThanOrEqual(0xffffffff);
      const [client, server] = SEED_CONTRACTS[c.name]!;
      expect(c.roles).toEqual([
        { name: 'client', users: [client], pathParams: {} },
        { name: 'server', users: [server], pathParams: {} },
      ]);
    }
  });

  it('generates the service graph: 6 host owners, 6 contract edges client → server', async () => {
    const res = await t.call('GET', '/api/v1/domains/voting-app/topology', { token: admin });
    expect(res.body.nodes).toHaveLength(6);
    expect(res.body.edges).toHaveLength(6);
    expect(res.body.edges).toContainEqual(
      expect.objectContaining({ contract: 'voting-worker', client: 'worker', server: 'voting-db' }),
    );
  });

  it('re-applying plans no change; one edited role plans exactly one update', async () => {
    const same = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: votingAppSpec(), dryRun: true },
    });
    expect(same.body.changes).toEqual([]);
    const spec = votingAppSpec();
    spec.domains
      .find((d) => d.name === 'voting-app')!
      .contracts.find((c) => c.name === 'voting-frontend')!.client.pathParams = TRANSIT;
    const one = await t.call('POST', '/api/v1/apply', { token: admin, body: { spec, dryRun: true } });
    expect(one.body.changes).toEqual([
      expect.objectContaining({ action: 'update', kind: 'role', name: 'voting-frontend/client' }),
    ]);
    // The dry run wrote nothing.
    const role = await t.call('GET', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
      token: admin,
    });
    expect(role.body.role.pathParams).toEqual({});
  });

  it('routes around aws-p2 until the transit is set on voting-frontend', async () => {
    const q = '/api/v1/paths?from=aws-p1&to=gcp-p1&contract=voting-frontend';
    const before = await t.call('GET', q, { token: admin });
    expect(before.status).toBe(200);
    expect(before.body.path).toEqual(['aws-p1', 'gcp-p1']);
    const put = await t.call('PUT', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
      token: admin,
      body: { pathParams: TRANSIT },
    });
    expect(put.status).toBe(200);
    const after = await t.call('GET', q, { token: admin });
    expect(after.body.path).toEqual(['aws-p1', 'aws-p2', 'gcp-p1']);
  });

  it('refuses bad input with a clear error and changes nothing', async () => {
    const url = '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client';
    const malformed = await t.call('PUT', url, { token: admin, rawBody: '{"pathParams": {' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('TRELLIS_ERR_MALFORMED_JSON');
    // Regression: a prototype key was reported as "not valid JSON"; it is valid JSON, refused.
    const proto = await t.call('PUT', url, { token: admin, rawBody: '{"__proto__": {"admin": true}}' });
    expect(proto.status).toBe(400);
    expect(proto.body.error.message).toContain('"__proto__"');
    expect(proto.body.error.message).not.toContain('not valid JSON');

    const unknownField = await t.call('PUT', url, {
      token: admin,
      body: { pathParams: { transit: 'aws-p2', detour: 1 } },
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toContain('body.pathParams.detour');
    expect(unknownField.body.error.field).toBe('body.pathParams.detour');

    const unknownProcessor = await t.call('PUT', url, {
      token: admin,
      body: { pathParams: { transit: ['aws-p2', 'aws-p9'] } },
    });
    expect(unknownProcessor.status).toBe(422);
    expect(unknownProcessor.body.error.message).toBe('unknown processor "aws-p9" in transit');
    expect(unknownProcessor.body.error.field).toBe('body.pathParams.transit[1]');

    const wrongPeer = await t.call('PUT', url, { token: admin, body: { pathParams: { role: 'client' } } });
    expect(wrongPeer.status).toBe(422);
    expect(wrongPeer.body.error.message).toContain('peer role "server"');

    const role = await t.call('GET', url, { token: admin });
    expect(role.body.role.pathParams).toEqual(TRANSIT);
  });

  it('refuses a user from the guessing address after 5 failed logins, saying when to retry; its owner elsewhere logs in', async () => {
    await t.call('POST', '/api/v1/admin-users', {
      token: admin,
      body: { name: 'mallory', role: 'systemAdmin', password: 'correct-horse' },
    });
    const stranger = '192.0.2.66';
    for (let i = 0; i < 5; i++) {
      const res = await t.call('POST', '/api/v1/login', {
        body: { username: 'mallory', password: `guess-${i}` },
        remoteAddress: stranger,
      });
      expect(res.status).toBe(401);
    }
    // Even the right password is refused from there: the lock gives the guesser no oracle.
    const locked = await t.call('POST', '/api/v1/login', {
      body: { username: 'mallory', password: 'correct-horse' },
      remoteAddress: stranger,
    });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(locked.body.error.message).toMatch(/retry in \d+ s/);
    expect(locked.body.error.message).toContain(stranger);
    // Another form of the same name is the same account.
    const other = await t.call('POST', '/api/v1/login', {
      body: { username: 'Mallory', password: 'correct-horse' },
      remoteAddress: stranger,
    });
    expect(other.status).toBe(429);
    const owner = await t.call('POST', '/api/v1/login', {
      body: { username: 'mallory', password: 'correct-horse' },
      remoteAddress: '198.51.100.7',
    });
    expect(owner.status).toBe(200);
  });

  it('confines a domainAdmin to its own domain (403 naming the domain)', async () => {
    await t.call('POST', '/api/v1/domains', { token: admin, body: { name: 'getaway-app' } });
    const created = await t.call('POST', '/api/v1/admin-users', {
      token: admin,
      body: { name: 'gina', role: 'domainAdmin', domain: 'getaway-app', password: 'gina-password' },
    });
    expect(created.status).toBe(201);
    const gina = await t.login('gina', 'gina-password');
    const own = await t.call('GET', '/api/v1/contracts?domain=getaway-app', { token: gina });
    expect(own.status).toBe(200);
    const other = await t.call('PUT', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
      token: gina,
      body: { pathParams: {} },
    });
    expect(other.status).toBe(403);
    expect(other.body.error.message).toContain('"voting-app"');
    const list = await t.call('GET', '/api/v1/contracts', { token: gina });
    expect(list.body).toEqual([]);
    expect(
      (await t.call('POST', '/api/v1/processors', { token: gina, body: { name: 'x-p1', zone: 'x' } })).status,
    ).toBe(403);
  });

  it('lets nodes register with a resource-user login; a connected node cannot be deleted (409)', async () => {
    const proxy = await t.login('http-proxy', passwords['voting-app/http-proxy'], 'voting-app');
    // Host-owner tokens reach only what agents need.
    expect((await t.call('GET', '/api/v1/contracts', { token: proxy })).status).toBe(403);
    const reg = await t.call('POST', '/api/v1/nodes/register', {
      token: proxy,
      body: { name: 'aws-11', addresses: ['127.0.1.11'], publicKey: publicKeyPem(), processors: ['aws-p1'] },
    });
    expect(reg.status).toBe(200);
    expect(reg.body.certPem).toContain('BEGIN CERTIFICATE');
    expect(reg.body.caPem).toContain('BEGIN CERTIFICATE');
    expect(reg.body.node).toMatchObject({
      name: 'aws-11',
      kind: 'workload',
      owner: 'http-proxy',
      domain: 'voting-app',
      status: 'connected',
    });
    expect(reg.body.node.nodeId).toMatch(
      /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:0:([0-9a-f]{1,4}:){3}[0-9a-f]{1,4}$/,
    );

    const ops = await t.login('fabric-ops', passwords['infra/fabric-ops'], 'infra');
    const p = await t.call('POST', '/api/v1/nodes/register', {
      token: ops,
      body: { name: 'aws-p1', addresses: ['127.0.2.1'], publicKey: publicKeyPem() },
    });
    expect(p.body.node.kind).toBe('processor');

    const nodes = (await t.call('GET', '/api/v1/nodes', { token: admin })).body;
    expect(nodes.map((n: { name: string }) => n.name).sort()).toEqual(['aws-11', 'aws-p1']);
    expect(Object.keys(nodes[0]).sort()).toEqual(
      [
        'addresses',
        'certNotAfter',
        'domain',
        'endpoint',
        'kind',
        'lastSeen',
        'name',
        'nodeId',
        'owner',
        'processors',
        'registeredAt',
        'status',
      ].sort(),
    );

    const refused = await t.call('DELETE', '/api/v1/nodes/aws-11', { token: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('"aws-11" is connected');

    const topo = (await t.call('GET', '/api/v1/topology', { token: admin })).body;
    expect(topo.processors.find((x: { name: string }) => x.name === 'aws-p1').status).toBe('connected');
    expect(topo.processors.find((x: { name: string }) => x.name === 'gcp-p1').status).toBe('unregistered');
    expect(topo.attachments).toContainEqual({ node: 'aws-11', processor: 'aws-p1' });

    expect((await t.call('POST', '/api/v1/nodes/aws-11/disconnect', { token: admin })).body.status).toBe(
      'disconnected',
    );
    expect((await t.call('DELETE', '/api/v1/nodes/aws-11', { token: admin })).status).toBe(204);
  });

  it('records who changed what, with before and after, and never a secret', async () => {
    const audit = (await t.call('GET', '/api/v1/audit?domain=voting-app', { token: admin })).body;
    const roleChange = audit.find(
      (e: { kind: string; name: string }) => e.kind === 'role' && e.name === 'voting-frontend/client',
    );
    expect(roleChange).toMatchObject({
      actor: 'systemAdmin:admin',
      action: 'update',
      before: { pathParams: {} },
      after: { pathParams: TRANSIT },
    });
    const text = JSON.stringify(audit);
    expect(text).not.toContain('scrypt$');
    expect(text).not.toContain(passwords['voting-app/http-proxy']);
  });

  it('keeps everything across a restart on the same store', async () => {
    const before = (await t.call('GET', '/api/v1/contracts?domain=voting-app', { token: admin })).body;
    await t.restart();
    // Sessions are stored hashed in the database: a token survives the restart.
    const after = (await t.call('GET', '/api/v1/contracts?domain=voting-app', { token: admin })).body;
    expect(after).toEqual(before);
    const path = await t.call('GET', '/api/v1/paths?from=aws-p1&to=gcp-p1&contract=voting-frontend', {
      token: admin,
    });
    expect(path.body.path).toEqual(['aws-p1', 'aws-p2', 'gcp-p1']);
  });

  it('never logs a password, token or hash', () => {
    const logs = logLines.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [
      ADMIN_PASSWORD,
      admin,
      ...Object.values(passwords),
      'gina-password',
      'correct-horse',
      'scrypt$',
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
