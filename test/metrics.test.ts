import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import http2 from 'node:http2';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFabricText } from '../src/apply/index.js';
import { H } from '../src/node/dataplane/headers.js';
import { mtlsClientOptions } from '../src/node/identity/tls-options.js';
import type { NodeIdentity } from '../src/node/runtime/control.js';
import type { FabricEvent } from '../src/orchestrator/events.js';
import { formatContractId } from '../src/wire/node-id.js';
import { ask } from './support/ask.js';
import { TestFabric } from './support/fabric.js';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from './support/orchestrator.js';
import { pgliteTarget } from './support/stores.js';

const HELLO = readFileSync(new URL('../examples/hello/fabric.yaml', import.meta.url), 'utf8');

/** The value of one sample in Prometheus text: the series of `name` carrying all of `labels`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('orchestrator GET /metrics', () => {
  let t: TestOrchestrator;
  let admin: string;
  const events: FabricEvent[] = [];

  beforeAll(async () => {
    t = await startTestOrchestrator(pgliteTarget);
    t.orch.ctx.events.subscribe((e) => events.push(e));
    admin = await t.login('admin', ADMIN_PASSWORD);
    const spec = parseFabricText(HELLO, 'fabric.yaml').spec;
    const res = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec, passwords: { 'hello/service1': 'service1-password' } },
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  const scrape = async () => {
    const res = await t.orch.app.inject({ method: 'GET', url: '/metrics' });
    return { status: res.statusCode, type: String(res.headers['content-type']), text: res.body };
  };

  it('serves Prometheus text without a login, off the /api/v1 prefix', async () => {
    const m = await scrape();
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.text).toContain('# TYPE trellis_registrations_total counter');
    expect(sample(m.text, 'process_cpu_user_seconds_total', { component: 'orchestrator' })).toBeGreaterThan(
      0,
    );
    expect((await t.call('GET', '/api/v1/metrics')).status).toBe(404);
  });

  it('counts registrations by kind, logins by result and requests by route template', async () => {
    const service1 = await t.login('service1', 'service1-password', 'hello');
    expect(
      (
        await t.call('POST', '/api/v1/login', {
          body: { username: 'service1', domain: 'hello', password: 'wrong-password' },
        })
      ).status,
    ).toBe(401);
    const reg = await t.call('POST', '/api/v1/nodes/register', {
      token: service1,
      body: { name: 'aws-11', addresses: ['127.0.6.11'], publicKey: publicKeyPem(), processors: ['aws-p1'] },
    });
    expect(reg.status).toBe(200);
    await t.call('GET', '/api/v1/nodes/aws-11', { token: admin });
    await t.call('GET', '/no/such/endpoint');

    const { text } = await scrape();
    expect(sample(text, 'trellis_registrations_total', { kind: 'workload' })).toBe(1);
    expect(sample(text, 'trellis_logins_total', { result: 'success' })).toBe(2);
    expect(sample(text, 'trellis_logins_total', { result: 'failure' })).toBe(1);
    const requests = (labels: Record<string, string>) => sample(text, 'trellis_http_requests_total', labels);
    expect(requests({ method: 'POST', route: '/api/v1/nodes/register', status: '200' })).toBe(1);
    expect(requests({ method: 'POST', route: '/api/v1/login', status: '401' })).toBe(1);
    // Templates, not URLs: one series for every node read, none per name.
    expect(requests({ method: 'GET', route: '/api/v1/nodes/:name', status: '200' })).toBe(1);
    // /no/such/endpoint, and /api/v1/metrics above.
    expect(requests({ method: 'GET', route: 'unmatched', status: '404' })).toBe(2);
    expect(text).not.toContain('aws-11');
    expect(text).not.toContain(service1);
    expect(text).not.toContain('service1');

    // The apply bumped the epoch; registering a workload node publishes a node event, not a
    // policy change (only processors change paths).
    const policy = events.filter((e) => e.type === 'policy');
    expect(policy.length).toBeGreaterThanOrEqual(1);
    expect(events.some((e) => e.type === 'node' && e.kind === 'workload' && e.status === 'connected')).toBe(
      true,
    );
    const last = policy.at(-1)!;
    expect(sample(text, 'trellis_policy_epoch')).toBe(last.epoch);
    expect(sample(text, 'trellis_events_published_total', { type: 'policy' })).toBe(policy.length);
    // No event stream is open; the one listener is this test's own.
    expect(sample(text, 'trellis_event_subscribers')).toBe(1);
    // Policy events carry their publication time: nodes measure their event lag from it.
    expect(Math.abs(Date.now() - Date.parse(last.at))).toBeLessThan(60_000);
  });

  it('counts every kind of event published, and no in-process listener as a stream (regression, session 9)', async () => {
    const service1 = await t.login('service1', 'service1-password', 'hello');
    // A bundle fetch starts the policy snapshot's own listener: the gauge counted it as a stream.
    expect((await t.call('GET', '/api/v1/nodes/aws-11/bundle', { token: service1 })).status).toBe(200);
    expect(sample((await scrape()).text, 'trellis_event_subscribers')).toBe(1);
    // A denial event is built only while someone follows denials (an admin's ?kinds=denial stream);
    // it was published but never counted.
    const unsubscribe = t.orch.ctx.events.subscribe(() => {}, ['denial']);
    try {
      const r = await t.call('POST', '/api/v1/nodes/aws-11/denials', {
        token: service1,
        body: {
          denials: [
            {
              at: new Date().toISOString(),
              kind: 'deny',
              domain: 'hello',
              contract: 'hello',
              contractId: 1,
              role: 'server',
              src: null,
              dst: null,
              reason: 'no ticket',
            },
          ],
        },
      });
      expect(r.status).toBe(204);
      await expect
        .poll(async () => sample((await scrape()).text, 'trellis_events_published_total', { type: 'denial' }))
        .toBe(1);
    } finally {
      unsubscribe();
    }
  });
});

// Own loopback addresses (127.0.6.x): processors' admin listeners on port 9901 of their own
// address (TestFabric passes --admin-listen), agents' local API on 7401 of theirs (--client-address).
const P1 = { name: 'aws-p1', host: '127.0.6.1' };
const P2 = { name: 'gcp-p1', host: '127.0.6.2' };
const AWS11 = '127.0.6.11';
const GCP11 = '127.0.6.12';
const BASE = 40000 + Math.floor(Math.random() * 20000);

/** A CONNECT stream without a ticket, over a real node's mTLS identity: the processor refuses it. */
function connectWithoutTicket(id: NodeIdentity, to: { name: string; host: string; port: number }) {
  return new Promise<number>((resolve, reject) => {
    const session = http2.connect(
      `https://${to.host}:${to.port}`,
      mtlsClientOptions(id, undefined, { kind: 'processor', name: to.name }),
    );
    session.on('error', reject);
    const req = session.request({ ':method': 'CONNECT', ':authority': 'gcp-11', [H.hop]: '0' });
    req.on('response', (h) => {
      resolve(Number(h[':status']));
      session.destroy();
    });
    req.on('error', reject);
  });
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

describe('processor and agent /metrics (real processes)', () => {
  let f: TestFabric;
  let helloAddr: string;
  let service2: net.Server;

  beforeAll(async () => {
    f = await TestFabric.start(HELLO);
    await f.processor(P1.name, P1.host, BASE);
    await f.processor(P2.name, P2.host, BASE + 1);
    service2 = await new Promise<net.Server>((r) => {
      const s = net.createServer((c) => {
        c.on('error', () => undefined);
        c.on('data', () => c.end('hello back'));
      });
      s.listen(BASE + 10, GCP11, () => r(s));
    });
    await f.agent({
      vm: 'gcp-11',
      hostOwner: 'service2',
      domain: 'hello',
      address: GCP11,
      processors: [P2.name],
      serve: [`hello=${GCP11}:${BASE + 10}`],
    });
    const env = await f.envOf(
      await f.agent({
        vm: 'aws-11',
        hostOwner: 'service1',
        domain: 'hello',
        address: AWS11,
        processors: [P1.name],
      }),
    );
    helloAddr = env.HELLO_ADDR!;
  }, 60_000);

  afterAll(async () => {
    service2?.close();
    await f?.stop();
  });

  it('counts flows and bytes per contract on the processors, and refusals by rule', async () => {
    expect(await ask(helloAddr)).toContain('hello back');
    const contractId = formatContractId((await f.admin.contracts('hello'))[0]!.id);
    for (const p of [P1, P2]) {
      await f.waitFor(async () => {
        const text = await scrape(`http://${p.host}:9901/metrics`);
        return (
          sample(text, 'trellis_flows_total', { contract_id: contractId }) === 1 &&
          (sample(text, 'trellis_flow_bytes_total', { contract_id: contractId }) ?? 0) > 0 &&
          sample(text, 'trellis_flows_active') === 0
        );
      }, `flow counters on ${p.name}`);
    }
    const lag = await scrape(`http://${P1.host}:9901/metrics`);
    // The agents' registrations bumped the epoch after the processors started.
    expect(sample(lag, 'trellis_event_lag_seconds_count')).toBeGreaterThan(0);
    expect(sample(lag, 'process_resident_memory_bytes', { component: 'processor' })).toBeGreaterThan(0);

    const aws11 = JSON.parse(await readFile(join(f.dir, 'aws-11', 'identity.json'), 'utf8')) as NodeIdentity;
    expect(await connectWithoutTicket(aws11, { ...P1, port: BASE })).toBe(403);
    const after = await scrape(`http://${P1.host}:9901/metrics`);
    expect(sample(after, 'trellis_denials_total', { reason: 'no-ticket' })).toBe(1);
    expect((await fetch(`http://${P1.host}:9901/other`)).status).toBe(404);
  });

  it("counts an agent's flows, bytes and denials per contract on its local API", async () => {
    const client = await scrape(`http://${AWS11}:7401/metrics`);
    expect(sample(client, 'trellis_agent_flows_total', { contract: 'hello', role: 'client' })).toBe(1);
    expect(sample(client, 'trellis_agent_bytes_total', { contract: 'hello', direction: 'in' })).toBe(10);
    expect(sample(client, 'trellis_agent_bytes_total', { contract: 'hello', direction: 'out' })).toBe(2);
    const server = await scrape(`http://${GCP11}:7401/metrics`);
    expect(sample(server, 'trellis_agent_flows_total', { contract: 'hello', role: 'server' })).toBe(1);

    // Out of the client role: the listener stays, the flow is denied and counted by rule.
    await f.admin.setRole('hello', 'hello', 'client', { users: [] });
    await f.waitFor(async () => (await ask(helloAddr)) === '', 'the flow denied');
    await f.waitFor(async () => {
      const text = await scrape(`http://${AWS11}:7401/metrics`);
      return (
        (sample(text, 'trellis_agent_denials_total', { contract: 'hello', reason: 'not-in-role' }) ?? 0) > 0
      );
    }, 'a not-in-role denial on aws-11');
  });
});
