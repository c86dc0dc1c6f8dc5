import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FabricEvent } from '../src/orchestrator/events.js';
import { cliEnv, trellis, trellisInBackground } from './support/cli.js';
import {
  ADMIN_PASSWORD,
  publicKeyPem,
  startTestOrchestrator,
  type TestOrchestrator,
} from './support/orchestrator.js';
import { pgliteTarget } from './support/stores.js';
import { votingAppSpec } from './support/voting-app.js';
import { until } from './support/wait.js';
import { EventStream } from './voting-app/event-stream.js';

/**
 * `trellis get denials|flows --watch` against a real orchestrator: a denial a node reports and a
 * flow table a processor pushes reach the watch as events of the stream (issue 13) — the watch
 * reads nothing for a denial, and reads a flow table once per `flows` event. Who gets these
 * events: operators allowed to read denials of that domain / flow tables, never a node's stream.
 */
const PASSWORDS: Record<string, string> = {
  'infra/fabric-ops': 'fabric-ops-password',
  'voting-app/http-proxy': 'http-proxy-password',
  'voting-app/voting-svc': 'voting-svc-password',
};

const flowTable = (packets: number) => ({
  table30: { packets, bytes: packets * 100, flows: 1 },
  table50Total: 1,
  table50: [
    {
      srcNodeId: 'fd32:10d7:b78f:9fc6::11',
      dstNodeId: 'fd32:10d7:b78f:9fc6::21',
      contractId: 0x1234,
      flowLabel: 7,
      inPort: 'agent',
      outPort: 'gcp-p1',
      packets,
      bytes: packets * 100,
      idleAge: 0,
      idleTimeout: 60,
    },
  ],
});

describe('trellis get denials|flows --watch over the event stream', () => {
  let t: TestOrchestrator;
  let env: NodeJS.ProcessEnv;
  let url: string;
  let admin: string;
  let proxy: string;
  let ops: string;
  let contractId: number;
  const published: FabricEvent[] = [];
  const streams: EventStream[] = [];

  /** How many GETs of this route the orchestrator answered (its own request counter). */
  const reads = async (route: string) => {
    const m = await t.orch.app.inject({ method: 'GET', url: '/metrics' });
    let n = 0;
    for (const l of m.body.split('\n'))
      if (
        l.startsWith('trellis_http_requests_total{') &&
        l.includes('method="GET"') &&
        l.includes(`route="${route}"`)
      )
        n += Number(l.split(' ').at(-1));
    return n;
  };
  const denial = (reason: string) => ({
    at: new Date().toISOString(),
    kind: 'deny',
    domain: 'voting-app',
    contract: 'voting-frontend',
    contractId,
    role: 'client',
    src: null,
    dst: null,
    // As a node reports it now: the refusal's code (src/deny-codes.ts) beside its reason.
    code: 'TRELLIS_DENY_NO_TICKET',
    reason,
  });
  const report = (reason: string) =>
    t.call('POST', '/api/v1/nodes/aws-11/denials', { token: proxy, body: { denials: [denial(reason)] } });

  beforeAll(async () => {
    t = await startTestOrchestrator(pgliteTarget, { heartbeatTimeoutMs: 3_600_000 });
    t.orch.ctx.events.tap((e) => published.push(e));
    admin = await t.login('admin', ADMIN_PASSWORD);
    const applied = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: votingAppSpec(), passwords: PASSWORDS },
    });
    expect(applied.status).toBe(200);
    expect(
      (await t.call('POST', '/api/v1/domains', { token: admin, body: { name: 'getaway-app' } })).status,
    ).toBe(201);
    for (const [name, domain] of [
      ['vera', 'voting-app'],
      ['gina', 'getaway-app'],
    ] as const) {
      const created = await t.call('POST', '/api/v1/admin-users', {
        token: admin,
        body: { name, role: 'domainAdmin', domain, password: `${name}-password` },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    contractId = (
      await t.call('GET', '/api/v1/domains/voting-app/contracts/voting-frontend', { token: admin })
    ).body.id;
    proxy = await t.login('http-proxy', PASSWORDS['voting-app/http-proxy']!, 'voting-app');
    ops = await t.login('fabric-ops', PASSWORDS['infra/fabric-ops']!, 'infra');
    const node = await t.call('POST', '/api/v1/nodes/register', {
      token: proxy,
      body: { name: 'aws-11', addresses: ['127.0.2.11'], publicKey: publicKeyPem(), processors: ['aws-p1'] },
    });
    expect(node.status, JSON.stringify(node.body)).toBe(200);
    const processor = await t.call('POST', '/api/v1/nodes/register', {
      token: ops,
      body: {
        name: 'aws-p1',
        addresses: ['127.0.1.1'],
        publicKey: publicKeyPem(),
        endpoint: '127.0.1.1:7001',
      },
    });
    expect(processor.status, JSON.stringify(processor.body)).toBe(200);
    url = await t.listen();
    env = await cliEnv();
    const login = await trellis(['login', '--orchestrator', url, '--username', 'admin', '--password-stdin'], {
      env,
      input: `${ADMIN_PASSWORD}\n`,
    });
    expect(login.code, login.stderr).toBe(0);
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await t?.close();
  });

  it('a denial a node reports appears in `get denials --watch` from its event: the same row `get denials` prints, no read', async () => {
    const w = trellisInBackground(['get', 'denials', '--watch'], env);
    try {
      // The first table (empty), then its stream's hello re-reads it once; by then it is subscribed.
      await until('its stream', async () => ((await reads('/api/v1/denials')) >= 2 ? true : undefined));
      expect(t.orch.ctx.events.wants('denial')).toBe(true);
      expect(w.lines()).toEqual([expect.stringMatching(/^AT\s+COUNT\s+KIND\s+CONTRACT\s+ROLE/)]);

      const r = await report('no flow ticket for contract voting-frontend');
      expect(r.status, JSON.stringify(r.body)).toBe(204);
      const line = await until('the denial', async () => w.lines()[1]);
      expect(await reads('/api/v1/denials')).toBe(2);
      expect(line).toMatch(
        /\s1\s+deny\s+voting-app\/voting-frontend\s+client\s+aws-11 \(http-proxy\)\s+—\s+aws-11\s+TRELLIS_DENY_NO_TICKET\s+no flow ticket/,
      );
      // The row a one-shot listing prints (both laid out over the header alone).
      const once = await trellis(['get', 'denials'], { env });
      expect(once.code, once.stderr).toBe(0);
      expect(once.stdout.split('\n')[1]).toBe(line);

      // A watch with a filter prints only what the filter lists.
      const filtered = trellisInBackground(
        ['get', 'denials', '--contract', 'voting-backend', '--watch'],
        env,
      );
      try {
        await until('its stream', async () => ((await reads('/api/v1/denials')) >= 5 ? true : undefined));
        await report('no flow ticket for contract voting-frontend (again)');
        await until('the second denial', async () => w.lines()[2]);
        expect(filtered.lines()).toHaveLength(1);
      } finally {
        filtered.child.kill('SIGKILL');
      }
      w.child.kill('SIGTERM');
      expect(await w.ended).toBe(0);
      expect(w.out.stderr).toBe('');
    } finally {
      w.child.kill('SIGKILL');
    }
  });

  it("a processor's pushed flow table appears in `get flows PROCESSOR --watch`: one read per flows event, none for an idle push", async () => {
    const route = '/api/v1/processors/:name/flows';
    const w = trellisInBackground(['get', 'flows', 'aws-p1', '--watch'], env);
    try {
      const before = await reads(route);
      await until('its stream', async () => ((await reads(route)) >= before + 2 ? true : undefined));
      expect(w.lines()).toEqual([expect.stringMatching(/^SOURCE\s+DESTINATION\s+CONTRACT\s+LABEL/)]);

      const pushed = await t.call('PUT', '/api/v1/processors/aws-p1/flows', {
        token: ops,
        body: flowTable(10),
      });
      expect(pushed.status, JSON.stringify(pushed.body)).toBe(204);
      const line = await until('the flow', async () => w.lines()[1]);
      expect(line).toMatch(
        /^fd32:10d7:b78f:9fc6::11\s+fd32:10d7:b78f:9fc6::21\s+0x00001234\s+0x00007\s+10\s+1000\s+0s$/,
      );
      expect(published.filter((e) => e.type === 'flows')).toEqual([
        expect.objectContaining({ processor: 'aws-p1', revision: 1, table50Total: 1 }),
      ]);
      await until('its one read', async () => ((await reads(route)) === before + 3 ? true : undefined));
      const once = await trellis(['get', 'flows', 'aws-p1'], { env });
      expect(once.stdout.split('\n')[1]).toBe(line);

      // The same table pushed again (a processor reports every second): no event, no read.
      expect(
        (await t.call('PUT', '/api/v1/processors/aws-p1/flows', { token: ops, body: flowTable(10) })).status,
      ).toBe(204);
      expect(published.filter((e) => e.type === 'flows')).toHaveLength(1);
      // Its counters move: one more event (within a second: coalesced), one more line.
      expect(
        (await t.call('PUT', '/api/v1/processors/aws-p1/flows', { token: ops, body: flowTable(25) })).status,
      ).toBe(204);
      const moved = await until('the changed flow', async () => w.lines()[2]);
      expect(moved).toMatch(/0x00007\s+25\s+2500\s+0s$/);
      w.child.kill('SIGINT');
      expect(await w.ended).toBe(0);
      expect(w.out.stderr).toBe('');
    } finally {
      w.child.kill('SIGKILL');
    }
  });

  it("denial and flows events reach only operators who may read them: never a node's stream, nor another domain's admin", async () => {
    const open = async (token: string, query = '') => {
      const s = await EventStream.open(`${url}/api/v1/events${query}`, { authorization: `Bearer ${token}` });
      streams.push(s);
      expect(s.status).toBe(200);
      await s.next((e) => e.event === 'hello');
      return s;
    };
    const status = async (token: string, query: string) =>
      (await t.call('GET', `/api/v1/events${query}`, { token })).status;
    // A node's owner (host owner or switchOwner) may not ask for them: what GET /denials answers it.
    expect(await status(proxy, '?kinds=denial')).toBe(403);
    expect(await status(ops, '?kinds=flows')).toBe(403);
    expect(await status(proxy, '?node=aws-11&kinds=node')).toBe(400);
    expect(await status(admin, '?kinds=bogus')).toBe(400);

    const vera = await t.login('vera', 'vera-password');
    const gina = await t.login('gina', 'gina-password');
    const system = await open(admin, '?kinds=denial,flows');
    const own = await open(vera, '?kinds=denial,flows');
    const other = await open(gina, '?kinds=denial,flows');
    const console = await open(admin);
    const agent = await open(proxy, '?node=aws-11');
    const ownerStream = await open(proxy);

    expect((await report('no flow ticket for contract voting-frontend (third)')).status).toBe(204);
    await system.next((e) => e.event === 'denial');
    const seen = await own.next((e) => e.event === 'denial');
    expect(JSON.parse(seen.data)).toMatchObject({
      type: 'denial',
      domain: 'voting-app',
      reportedBy: 'aws-11',
      denials: [
        {
          contract: 'voting-frontend',
          code: 'TRELLIS_DENY_NO_TICKET',
          source: { name: 'aws-11', owner: 'http-proxy' },
        },
      ],
    });
    // After the denial: a flow table (to every admin that asked) and a node event (to the node streams).
    expect(
      (await t.call('PUT', '/api/v1/processors/aws-p1/flows', { token: ops, body: flowTable(99) })).status,
    ).toBe(204);
    const peer = await t.login('voting-svc', PASSWORDS['voting-app/voting-svc']!, 'voting-app');
    const reg = await t.call('POST', '/api/v1/nodes/register', {
      token: peer,
      body: { name: 'gcp-11', addresses: ['127.0.3.11'], publicKey: publicKeyPem(), processors: ['aws-p1'] },
    });
    expect(reg.status).toBe(200);
    // Events reach each stream in publication order: once the later one is there, the denial
    // (and flows) event it was going to get would be there too.
    for (const s of [system, own, other]) await s.next((e) => e.event === 'flows', 5_000);
    for (const s of [console, agent, ownerStream])
      await s.next((e) => e.event === 'node' && JSON.parse(e.data).name === 'gcp-11');
    expect(other.events.map((e) => e.event)).toEqual(['hello', 'flows']);
    for (const s of [console, agent, ownerStream]) {
      const kinds = new Set(s.events.map((e) => e.event));
      expect(kinds.has('denial') || kinds.has('flows')).toBe(false);
    }
    // A stream that asked for denials only gets no node events either.
    expect(new Set(own.events.map((e) => e.event))).toEqual(new Set(['hello', 'denial', 'flows']));

    // A processor serves every domain: its one report naming two domains is one event per
    // domain, each to that domain's admins only.
    const two = await t.call('POST', '/api/v1/nodes/aws-p1/denials', {
      token: ops,
      body: {
        denials: [
          { ...denial('ticket expired'), role: 'server' },
          { ...denial('ticket expired'), role: 'server', domain: 'getaway-app', contract: 'reservations' },
        ],
      },
    });
    expect(two.status, JSON.stringify(two.body)).toBe(204);
    expect(
      (await t.call('PUT', '/api/v1/processors/aws-p1/flows', { token: ops, body: flowTable(7) })).status,
    ).toBe(204);
    for (const s of [system, own, other])
      await s.next((e) => e.event === 'flows' && JSON.parse(e.data).revision > 3);
    const denials = (s: EventStream) =>
      s.events
        .filter((e) => e.event === 'denial')
        .map((e) => JSON.parse(e.data) as { domain: string; reportedBy: string });
    expect(denials(system).slice(-2)).toEqual([
      expect.objectContaining({ domain: 'voting-app', reportedBy: 'aws-p1' }),
      expect.objectContaining({ domain: 'getaway-app', reportedBy: 'aws-p1' }),
    ]);
    expect(denials(own).map((d) => d.domain)).toEqual(['voting-app', 'voting-app']);
    expect(denials(other)).toEqual([
      expect.objectContaining({ domain: 'getaway-app', reportedBy: 'aws-p1' }),
    ]);
  });
});
