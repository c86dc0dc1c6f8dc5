import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyV2 } from '../src/wire/proxy-v2.js';
import { TestFabric } from './support/fabric.js';

// The hello exercise on a fabric with two routes from aws-p1 to gcp-p1: via aws-p2 (cost 10,
// the cheapest) and via azr-p1 (cost 20), so a processor can be killed and routed around.
const HELLO = readFileSync(new URL('../examples/hello/fabric.yaml', import.meta.url), 'utf8').replace(
  /processors:[\s\S]*?\ndomains:/,
  `processors:
  - { name: aws-p1, zone: aws }
  - { name: aws-p2, zone: aws }
  - { name: gcp-p1, zone: gcp }
  - { name: azr-p1, zone: azr }
links:
  - { between: [aws-p1, aws-p2], cost: 5 }
  - { between: [aws-p2, gcp-p1], cost: 5 }
  - { between: [aws-p1, azr-p1], cost: 10 }
  - { between: [azr-p1, gcp-p1], cost: 10 }
domains:`,
);
const BASE = 20000 + Math.floor(Math.random() * 20000);

/** service2 of seed 001: answers with the client address it sees (from the PROXY header). */
function startService2(host: string, port: number): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const p = parseProxyV2(buf);
      if (p.state === 'need-more') return;
      const remote =
        p.state === 'done'
          ? `${p.src.address}:${p.src.port}`
          : `${socket.remoteAddress}:${socket.remotePort}`;
      socket.end(`Hello from ${remote} to ${host}:${port}`);
    });
    socket.on('error', () => undefined);
  });
  return new Promise((r) => server.listen(port, host, () => r(server)));
}

/** One request through the fabric: connect to the local listener, send, read to the end. */
function ask(addr: string): Promise<{ body: string; local: string }> {
  const [host, port] = addr.split(':');
  return new Promise((resolve, _reject) => {
    const s = net.connect({ host: host!, port: Number(port), localAddress: host! }, () => s.write('hi'));
    let body = '';
    s.on('data', (d) => {
      body += d;
    });
    s.on('end', () => resolve({ body, local: `${s.localAddress}:${s.localPort}` }));
    s.on('close', () => resolve({ body, local: `${s.localAddress}:${s.localPort}` }));
    // A refused flow is closed (possibly reset) by the agent: that reads as an empty answer.
    s.on('error', () => resolve({ body, local: `${s.localAddress}:${s.localPort}` }));
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
  });
}

describe('data plane through real processes', () => {
  let f: TestFabric;
  let helloAddr: string;
  let service2: net.Server;

  beforeAll(async () => {
    f = await TestFabric.start(HELLO);
    await f.processor('aws-p1', '127.0.1.1', BASE);
    await f.processor('aws-p2', '127.0.1.2', BASE + 1);
    await f.processor('gcp-p1', '127.0.1.3', BASE + 2);
    await f.processor('azr-p1', '127.0.1.4', BASE + 3);
    service2 = await startService2('127.0.2.12', BASE + 10);
    await f.agent({
      vm: 'gcp-11',
      hostOwner: 'service2',
      domain: 'hello',
      address: '127.0.2.12',
      processors: ['gcp-p1'],
      serve: [`hello=127.0.2.12:${BASE + 10}`],
    });
    const env = await f.envOf(
      await f.agent({
        vm: 'aws-11',
        hostOwner: 'service1',
        domain: 'hello',
        address: '127.0.2.11',
        processors: ['aws-p1'],
      }),
    );
    helloAddr = env.HELLO_ADDR!;
  }, 90_000);

  afterAll(async () => {
    service2?.close();
    await f?.stop();
  });

  it('carries an allowed flow and preserves the client address across the fabric', async () => {
    expect(helloAddr).toMatch(/^127\.0\.2\.11:\d+$/);
    const r = await ask(helloAddr);
    expect(r.body).toBe(`Hello from ${r.local} to 127.0.2.12:${BASE + 10}`);
  });

  it('records the flow in the flow tables of the processors on its path, not elsewhere', async () => {
    await ask(helloAddr);
    const nodes = await f.admin.nodes();
    const contract = (await f.admin.contracts('hello'))[0]!;
    const src = nodes.find((n) => n.name === 'aws-11')!.nodeId;
    const dst = nodes.find((n) => n.name === 'gcp-11')!.nodeId;
    await f.waitFor(async () => {
      const t = await f.admin.request<{
        table50: { srcNodeId: string; dstNodeId: string; contractId: number }[];
      }>('GET', '/api/v1/processors/gcp-p1/flows');
      return t.table50.some(
        (e) => e.srcNodeId === src && e.dstNodeId === dst && e.contractId === contract.id,
      );
    }, 'a table50 entry on gcp-p1');
    expect(await packets('azr-p1')).toBe(0);
  });

  it('moves new flows onto a transit processor after a path-params edit', async () => {
    const before = await packets('azr-p1');
    await f.admin.setRole('hello', 'hello', 'client', {
      pathParams: { role: 'server', contract: 'hello', transit: 'azr-p1' },
    });
    await f.waitFor(
      async () => (await ask(helloAddr)).body.startsWith('Hello') && (await packets('azr-p1')) > before,
      'traffic through azr-p1',
    );
    await f.admin.setRole('hello', 'hello', 'client', { pathParams: {} });
  });

  it('denies a host owner removed from the client role, naming the contract and role', async () => {
    await f.admin.setRole('hello', 'hello', 'client', { users: [] });
    await f.waitFor(async () => (await ask(helloAddr)).body === '', 'the next request to fail');
    await f.waitFor(async () => {
      await ask(helloAddr);
      const d = await denials();
      return d.some(
        (x) =>
          x.kind === 'deny' &&
          x.code === 'TRELLIS_DENY_NOT_IN_ROLE' &&
          x.reason === 'denied: host owner "service1" is not in the client role of contract "hello"',
      );
    }, 'the denial to be recorded');
  });

  it('lets the same flow pass in audit mode, recorded as would-deny', async () => {
    await f.admin.setContract('hello', 'hello', { mode: 'audit' });
    await f.waitFor(
      async () => (await ask(helloAddr)).body.startsWith('Hello'),
      'the flow to pass in audit mode',
    );
    await f.waitFor(async () => {
      await ask(helloAddr);
      const d = await denials();
      return d.some(
        (x) =>
          x.kind === 'would-deny' &&
          x.code === 'TRELLIS_DENY_NOT_IN_ROLE' &&
          x.reason.includes('not in the client role of contract "hello"'),
      );
    }, 'a would-deny record');
    await f.admin.setContract('hello', 'hello', { mode: 'enforce' });
    await f.admin.setRole('hello', 'hello', 'client', { users: ['service1'] });
    await f.waitFor(
      async () => (await ask(helloAddr)).body.startsWith('Hello'),
      'the flow to be allowed again',
    );
  });

  it('routes around a killed processor within seconds', async () => {
    f.kill('aws-p2');
    const killedAt = Date.now();
    await f.waitFor(
      async () => (await ask(helloAddr)).body.startsWith('Hello'),
      'a flow around aws-p2',
      10_000,
    );
    const elapsed = Date.now() - killedAt;
    expect((await f.admin.nodes()).find((n) => n.name === 'aws-p2')!.status).toBe('disconnected');
    // Reported, not asserted: timing goals live in bench/ (the goal: within 3 s).
    console.log(`reroute after processor kill: ${elapsed} ms`);
  });

  it('fails closed when the transit processor is down, with a reason naming it', async () => {
    await f.admin.setRole('hello', 'hello', 'client', { pathParams: { transit: 'aws-p2' } });
    await f.waitFor(async () => (await ask(helloAddr)).body === '', 'flows to be refused');
    await f.waitFor(async () => {
      await ask(helloAddr);
      return (await denials()).some((x) => x.code === 'TRELLIS_DENY_NO_PATH' && x.reason.includes('aws-p2'));
    }, 'a refusal naming aws-p2');
    await f.admin.setRole('hello', 'hello', 'client', { pathParams: {} });
    await f.waitFor(async () => (await ask(helloAddr)).body.startsWith('Hello'), 'flows to resume');
  });

  it('keeps carrying flows while the orchestrator is down', async () => {
    await f.orch.stop();
    for (let i = 0; i < 5; i++) expect((await ask(helloAddr)).body).toMatch(/^Hello from 127\.0\.2\.11:/);
  });

  async function packets(processor: string): Promise<number> {
    const t = await f.admin.request<{ table30: { packets: number } }>(
      'GET',
      `/api/v1/processors/${processor}/flows`,
    );
    return t.table30.packets;
  }

  function denials() {
    return f.admin.request<{ kind: string; code: string; reason: string }[]>(
      'GET',
      '/api/v1/denials?domain=hello',
    );
  }
});
