import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFabricText } from '../../src/apply/index.js';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from '../support/orchestrator.js';
import { pgliteTarget } from '../support/stores.js';
import { EventStream } from '../voting-app/event-stream.js';

/**
 * Issue 11, finding 7 (leaks between domains, unchecked endpoints, duplicate users): what the
 * attack run sent, and what must come back. Two domains share one fabric; every request is
 * made by a legitimate user of one of them reaching for the other.
 */
const FABRIC = `
apiVersion: trellis/v1
kind: Fabric
processors:
  - { name: aws-p1, zone: aws }
  - { name: gcp-p1, zone: gcp }
links:
  - { between: [aws-p1, gcp-p1], cost: 10 }
domains:
  - name: hello
    hostOwners: [service1, service2]
    contracts:
      - name: hello
        client: { users: [service1] }
        server: { users: [service2] }
  - name: voting-app
    hostOwners: [http-proxy, voting-svc]
    contracts:
      - name: voting-frontend
        client: { users: [http-proxy] }
        server: { users: [voting-svc] }
  - name: infra
    switchOwners: [fabric-ops]
`;
const PASSWORDS: Record<string, string> = {
  'hello/service1': 'service1-password',
  'hello/service2': 'service2-password',
  'voting-app/http-proxy': 'http-proxy-password',
  'voting-app/voting-svc': 'voting-svc-password',
  'infra/fabric-ops': 'fabric-ops-password',
};

describe('domain isolation and loose ends (issue 11 finding 7)', () => {
  let t: TestOrchestrator;
  let url: string;
  let admin: string;
  const streams: EventStream[] = [];
  const login = (domain: string, user: string) => t.login(user, PASSWORDS[`${domain}/${user}`]!, domain);
  const register = async (token: string, name: string, address: string, extra: object = {}) =>
    t.call('POST', '/api/v1/nodes/register', {
      token,
      body: { name, addresses: [address], publicKey: publicKeyPem(), ...extra },
    });
  const nodeEvents = (s: EventStream) =>
    s.events.filter((e) => e.event === 'node').map((e) => JSON.parse(e.data).name as string);
  const denial = (domain: string, contract: string) => ({
    at: new Date().toISOString(),
    kind: 'deny',
    domain,
    contract,
    contractId: 1,
    role: 'server',
    src: null,
    dst: null,
    reason: 'no ticket',
  });

  beforeAll(async () => {
    t = await startTestOrchestrator(pgliteTarget, { heartbeatTimeoutMs: 3_600_000 });
    admin = await t.login('admin', ADMIN_PASSWORD);
    const applied = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: parseFabricText(FABRIC, 'isolation.yaml').spec, passwords: PASSWORDS },
    });
    expect(applied.status).toBe(200);
    const created = await t.call('POST', '/api/v1/admin-users', {
      token: admin,
      body: { name: 'hilda', role: 'domainAdmin', domain: 'hello', password: 'hilda-password' },
    });
    expect(created.status).toBe(201);
    url = await t.listen();
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await t?.close();
  });

  it("events: sends a domainAdmin and a host owner of hello no node events of voting-app's nodes", async () => {
    const open = async (token: string, query = '') => {
      const s = await EventStream.open(`${url}/api/v1/events${query}`, { authorization: `Bearer ${token}` });
      streams.push(s);
      await s.next((e) => e.event === 'hello');
      return s;
    };
    const service1 = await login('hello', 'service1');
    expect((await register(service1, 'hello-vm1', '127.0.95.1', { processors: ['aws-p1'] })).status).toBe(
      200,
    );
    const system = await open(admin);
    const hilda = await open(await t.login('hilda', 'hilda-password'));
    const owner = await open(service1);
    const agent = await open(service1, '?node=hello-vm1');

    const proxy = await login('voting-app', 'http-proxy');
    expect((await register(proxy, 'voting-vm1', '127.0.95.2')).status).toBe(200);
    const ops = await login('infra', 'fabric-ops');
    expect((await register(ops, 'aws-p1', '127.0.95.3', { endpoint: '127.0.95.3:7001' })).status).toBe(200);
    const service2 = await login('hello', 'service2');
    expect((await register(service2, 'hello-vm2', '127.0.95.4')).status).toBe(200);

    // Events reach each subscriber in publication order: once hello-vm2's has arrived, any
    // voting-vm1 event it was going to get is already there.
    for (const s of [system, hilda, owner, agent])
      await s.next((e) => e.event === 'node' && JSON.parse(e.data).name === 'hello-vm2');
    expect(nodeEvents(system)).toEqual(['voting-vm1', 'aws-p1', 'hello-vm2']);
    // Processors serve every domain: their node events go to all, as GET /nodes lists them to all.
    expect(nodeEvents(hilda)).toEqual(['aws-p1', 'hello-vm2']);
    expect(nodeEvents(owner)).toEqual(['aws-p1', 'hello-vm2']);
    expect(nodeEvents(agent)).toEqual(['aws-p1', 'hello-vm2']);

    // A policy change in voting-app reaches hello's agent as "your bundle is unchanged" and
    // nothing more: not the domain, contract or owners it concerned (issue 12's scoped events).
    const last = Math.max(
      0,
      ...agent.events.filter((e) => e.event === 'policy').map((e) => JSON.parse(e.data).epoch),
    );
    const edit = await t.call('PUT', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
      token: admin,
      body: { pathParams: { maxHops: 8 } },
    });
    expect(edit.status).toBe(200);
    const policy = await agent.next((e) => e.event === 'policy' && JSON.parse(e.data).epoch > last);
    expect(JSON.parse(policy.data)).toEqual({
      type: 'policy',
      epoch: expect.any(Number),
      at: expect.any(String),
      bundle: 'unchanged',
    });
    for (const word of ['voting', 'http-proxy', 'scope']) expect(policy.data).not.toContain(word);
  });

  it('denials: refuses a host owner posting a denial into another domain (403 naming both); a processor may name any', async () => {
    const service1 = await login('hello', 'service1');
    const foreign = await t.call('POST', '/api/v1/nodes/hello-vm1/denials', {
      token: service1,
      body: { denials: [denial('hello', 'hello'), denial('voting-app', 'voting-frontend')] },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.message).toContain('"hello"');
    expect(foreign.body.error.message).toContain('"voting-app"');
    expect(foreign.body.error.field).toBe('body.denials[1].domain');
    const listed = await t.call('GET', '/api/v1/denials?domain=voting-app', { token: admin });
    expect(listed.body).toEqual([]);

    const own = await t.call('POST', '/api/v1/nodes/hello-vm1/denials', {
      token: service1,
      body: { denials: [denial('hello', 'hello')] },
    });
    expect(own.status).toBe(204);
    const ops = await login('infra', 'fabric-ops');
    const processor = await t.call('POST', '/api/v1/nodes/aws-p1/denials', {
      token: ops,
      body: { denials: [denial('voting-app', 'voting-frontend'), denial('hello', 'hello')] },
    });
    expect(processor.status).toBe(204);
    const after = await t.call('GET', '/api/v1/denials?domain=voting-app', { token: admin });
    expect(after.body.map((d: { reportedBy: string }) => d.reportedBy)).toEqual(['aws-p1']);
  });

  it("processor policy: refuses a host owner reading every contract's epoch through its own VM (403)", async () => {
    const service1 = await login('hello', 'service1');
    const policy = await t.call('GET', '/api/v1/processors/hello-vm1/policy', { token: service1 });
    expect(policy.status).toBe(403);
    expect(policy.body.error.message).toContain('hello-vm1');
    expect(policy.body).not.toHaveProperty('contractEpochs');
    const flows = await t.call('PUT', '/api/v1/processors/hello-vm1/flows', {
      token: service1,
      body: { table30: { packets: 0, bytes: 0, flows: 0 }, table50Total: 0, table50: [] },
    });
    expect(flows.status).toBe(403);

    const ops = await login('infra', 'fabric-ops');
    const own = await t.call('GET', '/api/v1/processors/aws-p1/policy', { token: ops });
    expect(own.status).toBe(200);
    expect(Object.keys(own.body.contractEpochs).length).toBeGreaterThan(0);
  });

  it("register: refuses an endpoint that is not on one of the node's addresses (422 naming body.endpoint)", async () => {
    const voting = await login('voting-app', 'voting-svc');
    const elsewhere = await register(voting, 'voting-vm2', '127.0.95.5', { endpoint: '127.0.60.1:7420' });
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.error.field).toBe('body.endpoint');
    expect(elsewhere.body.error.message).toContain('127.0.60.1:7420');
    expect((await t.call('GET', '/api/v1/nodes/voting-vm2', { token: admin })).status).toBe(404);

    expect((await register(voting, 'voting-vm2', '127.0.95.5', { endpoint: '127.0.95.5:7420' })).status).toBe(
      200,
    );
    // Another spelling of the same IPv6 address is the same host.
    const v6 = await register(voting, 'voting-vm3', 'fd00:0:0::95', { endpoint: '[fd00::95]:7420' });
    expect(v6.status).toBe(200);
  });

  it('roles: refuses a User Access List holding 1,024 copies of one name (422 naming the index)', async () => {
    const role = '/api/v1/domains/hello/contracts/hello/roles/client';
    const copies = await t.call('PUT', role, {
      token: admin,
      body: { users: Array.from({ length: 1024 }, () => 'service1') },
    });
    expect(copies.status).toBe(422);
    expect(copies.body.error.field).toMatch(/users\[1\]$/);
    expect(copies.body.error.message).toContain('"service1" is listed twice');
    const twice = await t.call('PUT', role, {
      token: admin,
      body: { users: ['service1', 'service2', 'service2'] },
    });
    expect(twice.status).toBe(422);
    expect(twice.body.error.field).toMatch(/users\[2\]$/);
    expect((await t.call('GET', role, { token: admin })).body.role.users).toEqual(['service1']);
  });
});
