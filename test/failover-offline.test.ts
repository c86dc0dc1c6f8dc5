import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService2 } from '../examples/hello/src/service2.js';
import type { AgentBundle } from '../src/agent/bundle.js';
import { TestFabric } from './support/fabric.js';

// Issue 14, must-show 7: with the orchestrator down, an agent whose first processor dies keeps
// its workload's flows going through its second processor, on the tickets it has cached.
// Own loopback range (127.0.52.x) and ports, apart from the other data-plane suites.
const HELLO = readFileSync(new URL('../examples/hello/fabric.yaml', import.meta.url), 'utf8');
const BASE = 20000 + Math.floor(Math.random() * 20000);
const P = { 'aws-p1': '127.0.52.1', 'aws-p2': '127.0.52.2', 'gcp-p1': '127.0.52.3' };
const AWS_VM1 = '127.0.52.11';
const GCP_VM1 = '127.0.52.12';
const REQUESTS = 300;

/** One request through the client listener on a new connection (a new flow): did it answer? */
function hello(addr: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(
      `http://${addr}/`,
      { localAddress: AWS_VM1, agent: false, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve(res.statusCode === 200 && body.startsWith('Hello from')));
        res.on('error', () => resolve(false));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

describe('failover without the orchestrator (must-show 7)', () => {
  let f: TestFabric;
  let helloAddr: string;
  let service2: net.Server;

  beforeAll(async () => {
    f = await TestFabric.start(HELLO);
    let port = BASE;
    for (const [name, address] of Object.entries(P)) await f.processor(name, address, port++);
    service2 = await startService2(GCP_VM1, BASE + 10);
    await f.agent({
      vm: 'gcp-vm1',
      hostOwner: 'service2',
      domain: 'hello',
      address: GCP_VM1,
      processors: ['gcp-p1'],
      serve: [`hello=${GCP_VM1}:${BASE + 10}`],
    });
    const env = await f.envOf(
      await f.agent({
        vm: 'aws-vm1',
        hostOwner: 'service1',
        domain: 'hello',
        address: AWS_VM1,
        processors: ['aws-p1', 'aws-p2'],
      }),
    );
    helloAddr = env.HELLO_ADDR!;
  }, 90_000);

  afterAll(async () => {
    service2?.close();
    if (f) f.orch.stop = async () => undefined; // killed below: there is nothing left to stop
    await f?.stop();
  });

  it('keeps ≤ 1 % of a 300-request loop failing with the orchestrator killed and the first processor kill -9ed', async () => {
    // The cached bundle holds the second way in: aws-vm1 → aws-p2 → gcp-p1, avoiding aws-p1.
    const bundle = JSON.parse(readFileSync(`${f.dir}/aws-vm1/bundle.json`, 'utf8')) as AgentBundle;
    const target = bundle.client.find((c) => c.contract === 'hello')!.targets[0]!;
    expect(target.path!.map((h) => h.name)).toEqual(['aws-p1', 'gcp-p1']);
    expect(target.fallbacks!.map((t) => t.path.map((h) => h.name))).toEqual([['aws-p2', 'gcp-p1']]);
    expect(await hello(helloAddr)).toBe(true);

    const orchestrator = f.orch.child;
    const orchestratorGone = new Promise((r) => orchestrator.once('exit', r));
    orchestrator.kill('SIGKILL');
    await orchestratorGone;
    const p1 = f.children.get('aws-p1')!;
    const p1Gone = new Promise((r) => p1.once('exit', r));
    p1.kill('SIGKILL');
    await p1Gone;

    let ok = 0;
    let failed = 0;
    for (let i = 0; i < REQUESTS; i++) {
      if (await hello(helloAddr)) ok++;
      else failed++;
    }
    console.log(`failover without the orchestrator: ${ok} ok, ${failed} failed of ${REQUESTS}`);
    expect(ok + failed).toBe(REQUESTS);
    expect(failed).toBeLessThanOrEqual(REQUESTS / 100);
    // Every answered request was a flow the agent opened (through aws-p2: aws-p1 is dead), and
    // none was refused on the way.
    const stat = await new Promise<string>((resolve, reject) =>
      http
        .get(`http://${AWS_VM1}:7401/api/v1/service/stat`, { localAddress: AWS_VM1 }, (res) => {
          let b = '';
          res.on('data', (d) => {
            b += d;
          });
          res.on('end', () => resolve(b));
        })
        .on('error', reject),
    );
    const counters = (
      JSON.parse(stat) as { contract: string; role: string; flowsOut: number; denials: number }[]
    ).find((x) => x.contract === 'hello' && x.role === 'client')!;
    expect(counters.flowsOut).toBeGreaterThanOrEqual(ok + 1);
    expect(counters.denials).toBe(failed);
  });
});
