import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { link, mkdir, mkdtemp, readFile, rename, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { H } from '../../src/node/dataplane/headers.js';
import { signTicket, ticketKeyId } from '../../src/wire/ticket.js';
import { cliEnv, TRELLIS_BIN } from '../support/cli.js';
import { TestFabric } from '../support/fabric.js';
import { attempt, forgedIdentity, type Outcome } from './support.js';

/**
 * Issue 11, findings 2 and 4: start-up that fails loudly. An orchestrator that could not bind
 * its port logged EADDRINUSE and hung (PGlite kept the process alive, so its supervisor never
 * restarted it); an agent accepted inbound flows before `refresh` was defined, and the first
 * such flow ended it with a ReferenceError.
 */

const HELLO = readFileSync(new URL('../../examples/hello/fabric.yaml', import.meta.url), 'utf8');
const BASE = 30000 + Math.floor(Math.random() * 9000);

/** Holds host:port the way another process would. */
function occupy(host: string, port: number): Promise<net.Server> {
  const s = net.createServer();
  return new Promise((r, j) => {
    s.once('error', j);
    s.listen(port, host, () => r(s));
  });
}

/**
 * Runs the CLI until it exits; a process still running after `hangMs` is what broke (it is
 * killed and reported as hung), so the bound only decides between "exited" and "hung".
 */
function runToExit(
  args: string[],
  env: NodeJS.ProcessEnv,
  hangMs = 20_000,
): Promise<{ hung: boolean; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TRELLIS_BIN, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, hangMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ hung, code, stderr });
    });
  });
}

describe('an orchestrator that cannot bind its port (issue 11, finding 2)', () => {
  it('exits non-zero at once, naming the address', async () => {
    const host = '127.0.81.41';
    const held = await occupy(host, BASE);
    try {
      const env = await cliEnv({ TRELLIS_ADMIN_PASSWORD: 'startup-admin-pw' });
      const dataDir = await mkdtemp(join(tmpdir(), 'trellis-bind-'));
      const r = await runToExit(
        ['orchestrator', '--plain-http', '--listen', `${host}:${BASE}`, '--data-dir', dataDir],
        env,
      );
      expect(r.hung, `still running after 20 s:\n${r.stderr}`).toBe(false);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(
        `error: cannot listen on ${host}:${BASE}: address already in use (EADDRINUSE)`,
      );
      expect(r.stderr).toMatch(/^hint: another process is listening on/m);
    } finally {
      held.close();
    }
  });
});

describe('processors and agents that cannot start (issue 11, findings 2 and 4)', () => {
  let f: TestFabric;

  beforeAll(async () => {
    f = await TestFabric.start(HELLO);
  }, 60_000);
  afterAll(async () => {
    await f?.stop();
  });

  const agentArgs = async (vm: string, address: string, inbound: number, stateDir: string) => [
    'agent',
    '--hostowner',
    'service2',
    '--domain',
    'hello',
    '--password-file',
    await f.passwordFile('hello/service2'),
    '--orchestrator',
    f.orch.url,
    '--vm',
    vm,
    '--address',
    address,
    '--client-address',
    address,
    '--inbound-port',
    String(inbound),
    '--processors',
    'gcp-p1',
    '--serve',
    `hello=${address}:${BASE + 50}`,
    '--state-dir',
    stateDir,
    '--env-path',
    join(stateDir, 'fabric.env'),
  ];

  it('a processor whose --listen is taken exits non-zero, naming the address', async () => {
    const host = '127.0.81.42';
    const held = await occupy(host, BASE + 1);
    try {
      const r = await runToExit(
        [
          'processor',
          '--name',
          'aws-p1',
          '--listen',
          `${host}:${BASE + 1}`,
          '--admin-listen',
          `${host}:9901`,
          '--orchestrator',
          f.orch.url,
          '--switch-owner',
          'fabric-ops',
          '--domain',
          'infra',
          '--password-file',
          await f.passwordFile('infra/fabric-ops'),
          '--state-dir',
          join(f.dir, 'aws-p1'),
        ],
        f.env,
      );
      expect(r.hung, `still running after 20 s:\n${r.stderr}`).toBe(false);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`cannot listen on ${host}:${BASE + 1}: address already in use`);
    } finally {
      held.close();
    }
  });

  it('an agent whose inbound port is taken exits non-zero, naming the address', async () => {
    const host = '127.0.81.43';
    const held = await occupy(host, BASE + 2);
    try {
      const r = await runToExit(await agentArgs('gcp-12', host, BASE + 2, join(f.dir, 'gcp-12')), f.env);
      expect(r.hung, `still running after 20 s:\n${r.stderr}`).toBe(false);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`cannot listen on ${host}:${BASE + 2}: address already in use`);
    } finally {
      held.close();
    }
  });

  it('an inbound flow at the earliest moment of an agent start is answered, and the agent stays up', async () => {
    const host = '127.0.81.44';
    const inbound = { host, port: BASE + 3 };
    const stateDir = join(f.dir, 'gcp-11');
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
    // The agent reads ports.json right after registering; as a FIFO it blocks there until the
    // test writes it, which holds the start-up at that moment for as long as the test needs.
    const ports = join(stateDir, 'ports.json');
    const gate = join(stateDir, 'ports.gate');
    execFileSync('mkfifo', ['-m', '0600', ports]);
    await link(ports, gate);
    const release = async () => {
      // A regular file takes the name (the agent writes it later); the FIFO, still open-pending
      // in the agent, is reached through its other name.
      await writeFile(join(stateDir, 'ports.tmp'), '{}');
      await rename(join(stateDir, 'ports.tmp'), ports);
      try {
        const fd = openSync(gate, constants.O_WRONLY | constants.O_NONBLOCK);
        writeSync(fd, '{}');
        closeSync(fd);
      } catch {
        // ENXIO: no reader any more (the agent is gone); the assertions below say so.
      }
    };
    const agent = f.spawn('gcp-11', await agentArgs('gcp-11', host, inbound.port, stateDir));
    try {
      await f.waitFor(
        async () => (await f.admin.nodes()).some((n) => n.name === 'gcp-11' && n.status === 'connected'),
        'gcp-11 registered',
      );
      const node = (await f.admin.nodes()).find((n) => n.name === 'gcp-11')!;
      // A valid ticket for gcp-11 from a source it has never heard of: the kind of flow that
      // makes the agent refresh its bundle before deciding.
      const signing = createPrivateKey(await readFile(join(f.dir, 'orchestrator', 'ticket.key'), 'utf8'));
      const now = Math.floor(Date.now() / 1000);
      const token = signTicket(
        {
          version: 2,
          keyId: ticketKeyId(createPublicKey(signing)),
          contractId: 77,
          policyEpoch: 1,
          issuedAt: now - 5,
          expiresAt: now + 600,
          srcNodeId: 'fd00::11',
          dstNodeId: node.nodeId,
          domain: 'hello',
          contract: 'hello',
          src: 'aws-11',
          dst: 'gcp-11',
          path: [{ name: 'gcp-p1', endpoint: '127.0.81.3:1' }],
          dstEndpoint: `${host}:${inbound.port}`,
          wouldDeny: null,
          proxyProtocol: true,
        },
        signing,
      );
      const lastHop = await forgedIdentity(join(f.dir, 'orchestrator'), {
        name: 'gcp-p1',
        kind: 'processor',
        domain: 'infra',
        addresses: ['127.0.81.3'],
      });
      const flow = () =>
        attempt(
          inbound,
          lastHop,
          { kind: 'workload', name: 'gcp-11' },
          {
            ':method': 'CONNECT',
            ':authority': 'gcp-11',
            [H.ticket]: token,
            [H.hop]: '1',
            [H.source]: '127.0.81.11:40000',
          },
        );
      // While the start-up is held: a flow as soon as the inbound port takes one (before the
      // fix it listened here already, and this flow killed the agent), for a few seconds.
      let early: Outcome | undefined;
      const end = Date.now() + 5000;
      while (Date.now() < end) {
        const o = await flow();
        if (!('error' in o) || !/ECONNREFUSED/.test(o.error)) {
          early = o;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
      await release();
      await f.waitFor(
        async () => (await readFile(join(stateDir, 'fabric.env'), 'utf8').catch(() => null)) !== null,
        'gcp-11 started',
      );
      const logs = () => f.logs.get('gcp-11')!.join('');
      expect(agent.exitCode, `gcp-11 exited:\n${logs().slice(-3000)}`).toBeNull();
      // An early flow, if the port took one, was answered like any other: a refusal naming why.
      if (early) expect(early, JSON.stringify(early)).toHaveProperty('status', 403);
      const o = await flow();
      expect(o, JSON.stringify(o)).toHaveProperty('status', 403);
      expect(o, JSON.stringify(o)).toHaveProperty('code', 'TRELLIS_DENY_NOT_SERVED');
      expect((o as { reason: string }).reason).toMatch(
        /gcp-11 does not serve the server role of contract "hello"/,
      );
      expect(agent.exitCode).toBeNull();
      expect(logs()).not.toMatch(/ReferenceError|before initialization/);
    } finally {
      await release().catch(() => undefined);
    }
  });
});
