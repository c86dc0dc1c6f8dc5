import { readFileSync } from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProxyV2 } from '../src/wire/proxy-v2.js';
import { TestFabric } from './support/fabric.js';

const HELLO = readFileSync(new URL('../examples/hello/fabric.yaml', import.meta.url), 'utf8');
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
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: host!, port: Number(port), localAddress: host! }, () => s.write('hi'));
    let body = '';
    s.on('data', (d) => {
      body += d;
    });
    s.on('end', () => resolve({ body, local: `${s.localAddress}:${s.localPort}` }));
    s.on('close', () => resolve({ body, local: `${s.localAddress}:${s.localPort}` }));
    s.on('error', reject);
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
    const p2 = await f.admin.request<{ table30: { packets: number } }>(
      'GET',
      '/api/v1/processors/aws-p2/flows',
    );
    expect(p2.table30.packets).toBe(0);
  });
});
