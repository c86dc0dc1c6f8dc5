import { readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService2 } from '../examples/hello/src/service2.js';
import { trellis } from './support/cli.js';
import { TestFabric } from './support/fabric.js';

// Issue 14, must-show 6: in the lab every VM shares one loopback, so a client listener must
// refuse a connection from another VM's address (and record it), and keep serving its own VM.
// Own loopback range (127.0.51.x) and ports, apart from the other data-plane suites.
const HELLO = readFileSync(new URL('../examples/hello/fabric.yaml', import.meta.url), 'utf8');
const BASE = 20000 + Math.floor(Math.random() * 20000);
const P = { 'aws-p1': '127.0.51.1', 'aws-p2': '127.0.51.2', 'gcp-p1': '127.0.51.3' };
const AWS_VM1 = '127.0.51.11';
const GCP_VM1 = '127.0.51.12';
const API_PORT = 7401;

/** A GET from `from` (a VM's address): the status and body, or null when the connection was closed. */
function getFrom(url: string, from: string): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const req = http.get(url, { localAddress: from, agent: false, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** One request through the contract's client listener, from `from`. */
const ask = async (addr: string, from: string) => (await getFrom(`http://${addr}/`, from))?.body ?? '';

describe('private listeners (must-show 6)', () => {
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
        processors: ['aws-p1'],
      }),
    );
    helloAddr = env.HELLO_ADDR!;
  }, 90_000);

  afterAll(async () => {
    service2?.close();
    await f?.stop();
  });

  it("serves the listener's own VM", async () => {
    expect(helloAddr).toMatch(/^127\.0\.51\.11:\d+$/);
    expect(await ask(helloAddr, AWS_VM1)).toMatch(
      new RegExp(`^Hello from ${AWS_VM1}:\\d+ to ${GCP_VM1}:${BASE + 10}`),
    );
  });

  it("refuses another VM's address and records a denial naming the listener's VM", async () => {
    expect(await ask(helloAddr, GCP_VM1)).toBe('');
    const want = `refused: client listener of "hello" on VM aws-vm1 serves only its own VM; connection from ${GCP_VM1}`;
    await f.waitFor(async () => {
      const d = await f.admin.request<
        { kind: string; code: string; reason: string; reportedBy: string; contract: string }[]
      >('GET', '/api/v1/denials?domain=hello');
      return d.some(
        (x) =>
          x.kind === 'deny' &&
          x.code === 'TRELLIS_DENY_FOREIGN_SOURCE' &&
          x.reason === want &&
          x.reportedBy === 'aws-vm1' &&
          x.contract === 'hello',
      );
    }, 'the denial in GET /api/v1/denials');
    // And the listener still works for its own VM afterwards.
    expect(await ask(helloAddr, AWS_VM1)).toMatch(/^Hello from/);
  });

  it("keeps the agent's local API to its own VM too", async () => {
    expect((await getFrom(`http://${AWS_VM1}:${API_PORT}/healthz`, AWS_VM1))?.status).toBe(200);
    const foreign = await getFrom(
      `http://${AWS_VM1}:${API_PORT}/api/v1/service/resolver?name=hello.hello`,
      GCP_VM1,
    );
    expect(foreign?.status).toBe(403);
    expect(foreign?.body).toContain(
      `the local API of VM aws-vm1 serves only its own VM; connection from ${GCP_VM1}`,
    );
  });

  it('a processor listening on 0.0.0.0 without --advertise refuses to start, naming both flags', async () => {
    const pw = await f.passwordFile('infra/fabric-ops');
    const args = (listen: string, ...more: string[]) => [
      'processor',
      '--name',
      'aws-p2',
      '--listen',
      listen,
      ...more,
      '--orchestrator',
      f.orch.url,
      '--switch-owner',
      'fabric-ops',
      '--domain',
      'infra',
      '--password-file',
      pw,
      '--state-dir',
      `${f.dir}/wildcard`,
    ];
    for (const listen of [`0.0.0.0:${BASE + 20}`, `[::]:${BASE + 20}`]) {
      const r = await trellis(args(listen), { env: f.env });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/--listen .* is a wildcard address: it needs --advertise HOST\[:PORT\]/);
    }
    const agent = await trellis(
      [
        'agent',
        '--hostowner',
        'service1',
        '--domain',
        'hello',
        '--password-file',
        await f.passwordFile('hello/service1'),
        '--orchestrator',
        f.orch.url,
        '--vm',
        'aws-vm9',
        '--address',
        '0.0.0.0',
        '--processors',
        'aws-p1',
        '--state-dir',
        `${f.dir}/wildcard-agent`,
      ],
      { env: f.env },
    );
    expect(agent.code).not.toBe(0);
    expect(agent.stderr).toMatch(
      /agent --address 0\.0\.0\.0:7443 is a wildcard address: it needs --advertise/,
    );
    // Nothing was registered under either name.
    expect((await f.admin.nodes()).some((n) => n.name === 'aws-vm9')).toBe(false);
  });

  it('a processor listening on 0.0.0.0 with --advertise registers the advertised endpoint', async () => {
    const before = (await f.admin.nodes()).find((n) => n.name === 'aws-p2')!;
    expect(before.endpoint).toBe(`${P['aws-p2']}:${BASE + 1}`);
    f.kill('aws-p2', 'SIGTERM');
    await f.waitFor(
      async () =>
        f.children.get('aws-p2')!.exitCode !== null || f.children.get('aws-p2')!.signalCode !== null,
      'aws-p2 stopped',
    );
    const pw = await f.passwordFile('infra/fabric-ops');
    f.spawn('aws-p2', [
      'processor',
      '--name',
      'aws-p2',
      '--listen',
      `0.0.0.0:${BASE + 21}`,
      '--advertise',
      P['aws-p2'],
      '--admin-listen',
      'off',
      '--orchestrator',
      f.orch.url,
      '--switch-owner',
      'fabric-ops',
      '--domain',
      'infra',
      '--password-file',
      pw,
      '--state-dir',
      `${f.dir}/aws-p2`,
    ]);
    await f.waitFor(async () => {
      const n = (await f.admin.nodes()).find((x) => x.name === 'aws-p2');
      return n?.status === 'connected' && n.endpoint === `${P['aws-p2']}:${BASE + 21}`;
    }, 'aws-p2 registered at its advertised endpoint');
  });
});
