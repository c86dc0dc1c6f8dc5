import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
 * The event stream a workload's agent holds carries only what can change its bundle: node
 * events of its peers (host owners it may reach or accept), not of every node of the domain —
 * in a 1,000-agent rollout that was a million SSE writes. A console (no ?node=) sees all.
 */
const OWNERS = ['http-proxy', 'voting-svc', 'voting-db', 'worker', 'result-svc', 'result-db'];
const PASSWORDS: Record<string, string> = Object.fromEntries([
  ['infra/fabric-ops', 'fabric-ops-password'],
  ...OWNERS.map((o) => [`voting-app/${o}`, `${o}-password`]),
]);

describe('event streams of workload nodes', () => {
  let t: TestOrchestrator;
  let url: string;
  let admin: string;
  const streams: EventStream[] = [];
  const register = async (name: string, owner: string) => {
    const token = await t.login(owner, PASSWORDS[`voting-app/${owner}`]!, 'voting-app');
    const r = await t.call('POST', '/api/v1/nodes/register', {
      token,
      body: { name, addresses: ['127.0.2.1'], publicKey: publicKeyPem(), processors: ['aws-p1'] },
    });
    expect(r.status).toBe(200);
    return token;
  };
  const nodeEvents = (s: EventStream) =>
    s.events.filter((e) => e.event === 'node').map((e) => JSON.parse(e.data).name as string);

  beforeAll(async () => {
    t = await startTestOrchestrator(pgliteTarget, { heartbeatTimeoutMs: 3_600_000 });
    admin = await t.login('admin', ADMIN_PASSWORD);
    const applied = await t.call('POST', '/api/v1/apply', {
      token: admin,
      body: { spec: votingAppSpec(), passwords: PASSWORDS },
    });
    expect(applied.status).toBe(200);
    url = await t.listen();
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    await t?.close();
  });

  it("sends an agent only its peers' node events; the console gets them all", async () => {
    const token = await register('gcp-11', 'voting-svc');
    const agent = await EventStream.open(`${url}/api/v1/events?node=gcp-11`, {
      authorization: `Bearer ${token}`,
    });
    const console = await EventStream.open(`${url}/api/v1/events`, { authorization: `Bearer ${admin}` });
    streams.push(agent, console);
    await agent.next((e) => e.event === 'hello');
    await console.next((e) => e.event === 'hello');

    await register('aws-12', 'worker'); // not a peer of voting-svc
    await register('aws-11', 'http-proxy'); // its client over voting-frontend
    await register('gcp-12', 'voting-db'); // its server over voting-backend
    await console.next((e) => e.event === 'node' && JSON.parse(e.data).name === 'gcp-12');
    await agent.next((e) => e.event === 'node' && JSON.parse(e.data).name === 'gcp-12');
    expect(nodeEvents(agent)).toEqual(['aws-11', 'gcp-12']);
    expect(nodeEvents(console)).toEqual(['aws-12', 'aws-11', 'gcp-12']);
    expect(JSON.parse(agent.events.find((e) => e.event === 'node')!.data)).toMatchObject({
      name: 'aws-11',
      owner: 'http-proxy',
      status: 'connected',
    });
  });

  it('after a role change makes a new peer, its nodes are sent', async () => {
    const agent = streams[0]!;
    const r = await t.call('PUT', '/api/v1/domains/voting-app/contracts/voting-frontend/roles/client', {
      token: admin,
      body: { users: ['http-proxy', 'worker'] },
    });
    expect(r.status).toBe(200);
    await agent.next((e) => e.event === 'policy');
    await register('aws-13', 'worker');
    await until('the new peer node event', async () =>
      nodeEvents(agent).includes('aws-13') ? true : undefined,
    );
    expect(nodeEvents(agent)).not.toContain('aws-12');
  });

  it('tells an agent its bundle is unchanged by a change that is not its own, and it is so; a change that is its own says nothing of the kind', async () => {
    const agent = streams[0]!;
    const token = await t.login('voting-svc', PASSWORDS['voting-app/voting-svc']!, 'voting-app');
    const bundle = async () => {
      const r = await t.call('GET', '/api/v1/nodes/gcp-11/bundle', { token });
      expect(r.status).toBe(200);
      const { epoch, ...rest } = r.body as { epoch: number };
      return { epoch, rest };
    };
    const policyAfter = async (contract: string) => {
      const epochs = agent.events.filter((e) => e.event === 'policy').map((e) => JSON.parse(e.data).epoch);
      const last = Math.max(0, ...epochs);
      const r = await t.call('PUT', `/api/v1/domains/voting-app/contracts/${contract}/roles/client`, {
        token: admin,
        body: { pathParams: { maxHops: 8 } },
      });
      expect(r.status).toBe(200);
      const e = await agent.next((e) => e.event === 'policy' && JSON.parse(e.data).epoch > last);
      return JSON.parse(e.data) as Record<string, unknown>;
    };

    const held = await bundle();
    // result-backend is result-svc's and result-db's: voting-svc's bundle does not depend on it.
    const other = await policyAfter('result-backend');
    expect(other).toMatchObject({ type: 'policy', bundle: 'unchanged' });
    // Nothing about whose bundle changed instead.
    expect(Object.keys(other).sort()).toEqual(['at', 'bundle', 'epoch', 'type']);
    const now = await bundle();
    expect(now.epoch).toBe(other.epoch);
    expect(now.rest).toEqual(held.rest);

    // voting-backend is voting-svc's own (its client role): refetch.
    const own = await policyAfter('voting-backend');
    expect(own).not.toHaveProperty('bundle');
    expect(Object.keys(own).sort()).toEqual(['at', 'epoch', 'type']);
  });
});
