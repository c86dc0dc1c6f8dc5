import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService2 } from '../examples/hello/src/service2.js';
import { ApiClient } from '../src/api-client/client.js';
import { pinnedFetch } from '../src/api-client/trust.js';
import { Supervisor } from '../src/host/supervisor.js';
import { planAddresses } from '../src/lab/addresses.js';
import { parseLabText } from '../src/lab/lab-file.js';
import type { LabState } from '../src/lab/state.js';
import type { LabStatus } from '../src/lab/status.js';
import { encodeProxyV2 } from '../src/wire/proxy-v2.js';
import { parseEnvFile } from '../src/workload/env-file.js';
import { type CliResult, cliEnv, TRELLIS_BIN, trellis } from './support/cli.js';
import { logTails } from './support/lab-logs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A pid is gone when signal 0 says ESRCH (children are reaped by their parent or init). */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Processes whose command line mentions `needle` (Linux /proc). */
async function processesMentioning(needle: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ');
      if (cmd.includes(needle)) out.push(`${entry}: ${cmd}`);
    } catch {
      // exited while we looked
    }
  }
  return out;
}

function get(url: string): Promise<{ status: number; body: string }> {
  return fetch(url).then(async (r) => ({ status: r.status, body: await r.text() }));
}

describe('lab file and address plan', () => {
  const text = (vms: string) => `apiVersion: trellis/v1
kind: Lab
fabric: fabric.yaml
processors:
  - { name: aws-p1 }
  - { name: gcp-p1, address: 127.0.1.1 }
vms:
${vms}`;

  it('allocates 127.0.1.N to processors and 127.0.2.N to VMs, skipping explicit ones', () => {
    const lab = parseLabText(
      text(
        '  - { name: a, processors: [aws-p1], address: 127.0.2.1 }\n  - { name: b, processors: [gcp-p1] }\n',
      ),
      '/x/lab.yaml',
    );
    expect(lab.fabricFile).toBe('/x/fabric.yaml');
    expect(lab.spec.switchOwner).toEqual({ domain: 'infra', name: 'fabric-ops' });
    const plan = planAddresses(lab.spec);
    expect(plan.ok && plan.plan).toEqual({
      orchestrator: { address: '127.0.0.1', port: 7420 },
      processors: [
        { name: 'aws-p1', address: '127.0.1.2', port: 7500 },
        { name: 'gcp-p1', address: '127.0.1.1', port: 7500 },
      ],
      vms: [
        { name: 'a', address: '127.0.2.1' },
        { name: 'b', address: '127.0.2.2' },
      ],
    });
  });

  it('reports problems with file, line and field', () => {
    expect(() =>
      parseLabText(text('  - { name: a, processors: [aws-p9], address: 10.0.0.1 }\n'), 'lab.yaml'),
    ).toThrow(/lab\.yaml:8: vms\[0\]\.address: must be a loopback IPv4 address/);
    expect(() => parseLabText(text('  - { name: a, processors: [aws-p9] }\n'), 'lab.yaml')).toThrow(
      /lab\.yaml:8: vms\[0\]\.processors\[0\]: not a processor of this lab: "aws-p9"/,
    );
    const dup = parseLabText(text('  - { name: a, processors: [aws-p1], address: 127.0.1.1 }\n'), 'l.yaml');
    const plan = planAddresses(dup.spec);
    expect(!plan.ok && plan.problems[0]?.message).toBe('127.0.1.1 is already used by processor gcp-p1');
  });

  it('reads the agent env file', () => {
    expect(parseEnvFile('# c\nHELLO_ADDR=127.0.2.1:9000\nexport B="x y"\n\nbad line\n')).toEqual({
      HELLO_ADDR: '127.0.2.1:9000',
      B: 'x y',
    });
  });
});

describe('hello service2', () => {
  it('answers with the client address from a PROXY v2 header, or the socket peer without one', async () => {
    const server = await startService2('127.0.0.1', 0);
    const port = (server.address() as { port: number }).port;
    const ask = (prefix: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () => {
          // Split the header across writes: the parser must wait for the rest.
          s.write(prefix.subarray(0, 5));
          setTimeout(
            () => s.write(Buffer.concat([prefix.subarray(5), Buffer.from('GET / HTTP/1.1\r\n\r\n')])),
            20,
          );
        });
        let out = '';
        s.on('data', (d) => {
          out += d;
        });
        s.on('end', () => resolve(out));
        s.on('error', reject);
      });
    try {
      const proxied = await ask(
        encodeProxyV2({ address: '127.0.2.1', port: 4567 }, { address: '127.0.2.2', port: 8002 }),
      );
      expect(proxied).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(proxied).toContain(`\r\n\r\nHello from 127.0.2.1:4567 to 127.0.0.1:${port}\n`);
      const direct = await ask(Buffer.alloc(0));
      expect(direct).toMatch(new RegExp(`Hello from 127\\.0\\.0\\.1:\\d+ to 127\\.0\\.0\\.1:${port}\\n$`));
    } finally {
      server.close();
    }
  });
});

describe('Supervisor', () => {
  const node = process.execPath;
  const temps: string[] = [];
  afterAll(async () => {
    for (const d of temps) await rm(d, { recursive: true, force: true });
  });

  it('restarts a crashing child with growing backoff', async () => {
    const lines: string[] = [];
    const dir = await mkdtemp(join(tmpdir(), 'trellis-supervisor-'));
    temps.push(dir);
    const sup = new Supervisor({
      log: (l) => lines.push(l),
      backoff: { initialMs: 50, maxMs: 200 },
      graceMs: 500,
    });
    await sup.start({
      name: 'crashy',
      kind: 'workload',
      stage: 0,
      command: node,
      args: ['-e', 'process.exit(3)'],
      env: async () => process.env,
      log: join(dir, 'crashy.log'),
    });
    await until('three restarts', () => (sup.states()[0]!.restarts >= 3 ? true : undefined));
    await sup.stop();
    expect(lines[0]).toMatch(/^crashy exited with code 3; restarting in 0\.05 s/);
    expect(lines.some((l) => l.includes('restarting in 0.2 s'))).toBe(true);
    expect(await readFile(join(dir, 'crashy.log'), 'utf8')).toMatch(/starting crashy: /);
  });

  it('stops the whole process group, SIGKILLing what ignores SIGTERM', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-supervisor-'));
    temps.push(dir);
    const lines: string[] = [];
    const sup = new Supervisor({ log: (l) => lines.push(l), graceMs: 300 });
    // A leader that ignores SIGTERM and forks a grandchild (same group) that prints its pid.
    const script = `
      process.on('SIGTERM', () => {});
      const c = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
      console.log('grandchild', c.pid);
      setInterval(() => {}, 1e6);`;
    await sup.start({
      name: 'stubborn',
      kind: 'agent',
      stage: 0,
      command: node,
      args: ['-e', script],
      env: async () => process.env,
      log: join(dir, 'stubborn.log'),
    });
    const leader = sup.pid('stubborn')!;
    const grandchild = await until('the grandchild', async () => {
      const m = /grandchild (\d+)/.exec(await readFile(join(dir, 'stubborn.log'), 'utf8'));
      return m ? Number(m[1]) : undefined;
    });
    await sup.stop();
    expect(gone(leader)).toBe(true);
    expect(gone(grandchild)).toBe(true);
    expect(lines).toContain('stubborn did not stop within 0.3 s; killed');
  });
});

/** A lab on random ports and random VM addresses, so labs never collide. */
interface LabFixture {
  env: NodeJS.ProcessEnv;
  home: string;
  labFile: string;
  orchPort: number;
  procPort: number;
  s1Port: number;
  s2Port: number;
  awsAddress: string;
  vm1: string;
  vm2: string;
  /** The CLI as a user runs it: its own process, this lab's TRELLIS_HOME. */
  cli(...args: string[]): Promise<CliResult>;
  state(): Promise<LabState>;
  status(): Promise<LabStatus>;
}

async function labFixture(): Promise<LabFixture> {
  const env = await cliEnv();
  const home = env.TRELLIS_HOME!;
  const orchPort = 20_000 + Math.floor(Math.random() * 30_000);
  const [procPort, s1Port, s2Port] = [orchPort + 1, orchPort + 2, orchPort + 3];
  const awsAddress = `127.0.1.${100 + Math.floor(Math.random() * 150)}`;
  // Own VM addresses: a real agent binds fixed ports (7443, 7401, 9000…) on its VM's address.
  const vmBase = 100 + 2 * Math.floor(Math.random() * 70);
  const [vm1, vm2] = [`127.0.2.${vmBase}`, `127.0.2.${vmBase + 1}`];
  const labFile = join(home, 'lab.yaml');
  // The older lab-file form: each VM's workload inline (the lab turns it into an app file).
  await writeFile(
    labFile,
    `apiVersion: trellis/v1
kind: Lab
fabric: ${join(ROOT, 'examples/hello/fabric.yaml')}
orchestrator: { address: 127.0.0.1, port: ${orchPort} }
processors:
  - { name: aws-p1, address: ${awsAddress}, port: ${procPort} }
  - { name: gcp-p1, port: ${procPort} }
vms:
  - name: aws-vm1
    address: ${vm1}
    processors: [aws-p1]
    run:
      hostOwner: service1
      domain: hello
      workload: { module: ${join(ROOT, 'examples/dist/hello/src/service1.js')}, env: { PORT: '${s1Port}' } }
      expose: { name: service1, port: ${s1Port} }
  - name: gcp-vm1
    address: ${vm2}
    processors: [gcp-p1]
    run:
      hostOwner: service2
      domain: hello
      serve: ['hello={address}:${s2Port}']
      workload: { module: ${join(ROOT, 'examples/dist/hello/src/service2.js')}, env: { PORT: '${s2Port}' } }
`,
  );
  const cli = (...args: string[]) => trellis(args, { env });
  return {
    env,
    home,
    labFile,
    orchPort,
    procPort,
    s1Port,
    s2Port,
    awsAddress,
    vm1,
    vm2,
    cli,
    state: async () => JSON.parse(await readFile(join(home, 'lab', 'state.json'), 'utf8')) as LabState,
    status: async () => {
      const st = await cli('lab', 'status', '-o', 'json');
      expect(st.code, st.stderr).toBe(0);
      return JSON.parse(st.stdout) as LabStatus;
    },
  };
}

/** `lab down` must leave nothing: no pid it knew of, no process mentioning the lab's home or hosts. */
async function expectLabGone(lab: LabFixture, pids: number[], hostsDir: string): Promise<void> {
  const down = await lab.cli('lab', 'down');
  expect(down.code, down.stderr).toBe(0);
  expect(down.stdout).toContain('the lab is down');
  // Detached supervisors' parent is init, which may take a moment to reap them.
  await until('every lab pid to be gone', () => (pids.every(gone) ? true : undefined)).catch(() => {});
  expect(pids.filter((p) => !gone(p))).toEqual([]);
  expect(await processesMentioning(lab.home)).toEqual([]);
  expect(await processesMentioning(hostsDir)).toEqual([]);
  await expect(readFile(join(lab.home, 'lab', 'state.json'))).rejects.toThrow(/ENOENT/);
}

/**
 * The whole lab as a user runs it, detached: an inventory of hosts on this machine, brought up
 * through `fabric up` and `deploy` (the same code as real hosts, with a local connection).
 * service1 reaches service2 only through the fabric, and service2 learns service1's address
 * from the PROXY header its agent prepends.
 */
describe('trellis lab up/status/down (the same deploy path as real hosts, local connection)', () => {
  let lab: LabFixture;
  let state: LabState;
  let before: LabStatus;
  let nodeIds: Record<string, string> = {};

  beforeAll(async () => {
    lab = await labFixture();
  });

  afterAll(async () => {
    // Never leave a lab behind, even when an assertion failed half-way.
    await lab?.cli('lab', 'down');
    if (lab) await rm(lab.home, { recursive: true, force: true });
    if (state) await rm(dirname(state.hostsDir), { recursive: true, force: true });
  });

  it('lab up --detach runs fabric up and one deploy per VM, and returns once it is ready', {
    timeout: 180_000,
  }, async () => {
    const up = await lab.cli('lab', 'up', '-f', lab.labFile, '--detach');
    expect(up.code, up.stderr + up.stdout + (await logTails(lab.home))).toBe(0);
    expect(up.stdout).toContain(`orchestrator on orchestrator: https://127.0.0.1:${lab.orchPort} (started)`);
    expect(up.stdout).toContain('processor aws-p1 (local): started');
    expect(up.stdout).toMatch(/deployed hello\/service1 on aws-vm1: done in \d+\.\d s/);
    expect(up.stdout).toMatch(/deployed hello\/service2 on gcp-vm1: done in \d+\.\d s/);
    expect(up.stdout).toContain(`service1     http://${lab.vm1}:${lab.s1Port}/`);
    // Issue 11 finding 7: the admin password stays in its 0600 file, never on stdout.
    const password = (await readFile(join(lab.home, 'lab', 'admin-password'), 'utf8')).trim();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(up.stdout).not.toContain(password);
    expect(up.stdout).toContain(
      `Admin login:   admin, password in ${join(lab.home, 'lab', 'admin-password')}`,
    );
    state = await lab.state();
    expect(state.phase).toBe('ready');
    // The lab is an inventory of local hosts, one trellis_root each, as `deploy --inventory` reads it.
    const inv = await readFile(join(lab.home, 'lab', 'inventory.yaml'), 'utf8');
    expect(inv).toContain('ansible_connection: local');
    expect(inv).toContain(`trellis_root: ${join(state.hostsDir, 'gcp-vm1')}`);
    // The inline runs became an app file, which later deploys read.
    expect(await readFile(join(lab.home, 'lab', 'apps', 'hello.yaml'), 'utf8')).toContain(
      `hello: ${lab.s2Port}`,
    );
  });

  it('serves seed 001 through the fabric', async () => {
    // Ready means every unit is up; the first flow may still wait for a grant to arrive.
    let res = await get(`http://${lab.vm1}:${lab.s1Port}/`);
    for (let i = 0; i < 20 && res.status !== 200; i++) {
      await sleep(250);
      res = await get(`http://${lab.vm1}:${lab.s1Port}/`);
    }
    expect(res.status, res.body + (await logTails(lab.home))).toBe(200);
    expect(res.body).toMatch(new RegExp(`^Hello from 127\\.0\\.0\\.1:\\d+ to ${lab.vm1}:${lab.s1Port}\\n`));
    expect(res.body).toMatch(new RegExp(`\\nHello from ${lab.vm1}:\\d+ to ${lab.vm2}:${lab.s2Port}\\n$`));
  });

  it('lab status -o json describes the lab; the fabric is applied over a pinned CA', async () => {
    before = await lab.status();
    const url = `https://127.0.0.1:${lab.orchPort}`;
    expect(before).toMatchObject({
      phase: 'ready',
      orchestrator: { url, status: 'up' },
      processors: [
        { name: 'aws-p1', address: lab.awsAddress, status: 'connected' },
        { name: 'gcp-p1', address: '127.0.1.1', status: 'connected' },
      ],
      vms: [
        { name: 'aws-vm1', address: lab.vm1, hostOwner: 'hello/service1', status: 'connected' },
        { name: 'gcp-vm1', address: lab.vm2, hostOwner: 'hello/service2', status: 'connected' },
      ],
      urls: { service1: `http://${lab.vm1}:${lab.s1Port}/` },
    });
    expect(before.units.map((u) => `${u.host}/${u.name}`).sort()).toEqual([
      'aws-p1/processor-aws-p1',
      'aws-vm1/agent-aws-vm1',
      'aws-vm1/workload-aws-vm1',
      'gcp-p1/processor-gcp-p1',
      'gcp-vm1/agent-gcp-vm1',
      'gcp-vm1/workload-gcp-vm1',
      'orchestrator/orchestrator',
    ]);
    expect(before.units.every((u) => u.pid !== null)).toBe(true);

    const caPem = await readFile(
      join(lab.home, 'lab', 'hosts', 'orchestrator', 'state', 'orchestrator', 'ca.crt'),
      'utf8',
    );
    const api = new ApiClient(url, undefined, pinnedFetch({ caPem }));
    expect((await api.health()).status).toBe('ok');
    // Anything else answering there fails verification: the system store does not vouch for it.
    await expect(new ApiClient(url).health()).rejects.toThrow(/cannot verify the orchestrator/);
    const password = (await readFile(join(lab.home, 'lab', 'admin-password'), 'utf8')).trim();
    const { token } = await api.login('admin', password);
    const contracts = await api.withToken(token).contracts('hello');
    expect(contracts.map((c) => c.name)).toEqual(['hello']);
    nodeIds = Object.fromEntries((await api.withToken(token).nodes()).map((n) => [n.name, n.nodeId]));
    expect(await readFile(join(lab.home, 'config.yaml'), 'utf8')).toContain(url);
    const secrets = await readFile(join(lab.home, 'lab', 'secrets.yaml'), 'utf8');
    // Host owners enrol with one-use tokens; only `apply`'s generated passwords are kept here.
    expect(secrets).toMatch(/hello\/service1: /);
    expect(secrets).toMatch(/infra\/fabric-ops: /);
  });

  it('lab up again says it is running and exits 0', async () => {
    const again = await lab.cli('lab', 'up', '-f', lab.labFile, '--detach');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`a lab is already running (${lab.labFile})`);
  });

  it("restarts a unit that dies: its host's supervisor brings it back", { timeout: 60_000 }, async () => {
    const old = before.units.find((u) => u.name === 'processor-aws-p1')!.pid!;
    process.kill(old, 'SIGKILL');
    const fresh = await until(
      'aws-p1 to be restarted',
      async () => {
        const u = (await lab.status()).units.find((x) => x.name === 'processor-aws-p1')!;
        return u.pid !== null && u.pid !== old && u.restarts === 1 ? u.pid : undefined;
      },
      30_000,
    );
    before.units.push({ ...before.units[0]!, name: 'aws-p1 (restarted)', pid: fresh });
  });

  it('lab down leaves no process behind', { timeout: 90_000 }, async () => {
    await expectLabGone(
      lab,
      before.units.map((u) => u.pid!),
      state.hostsDir,
    );
    const status = await lab.cli('lab', 'status');
    expect(status.code).toBe(3);
    expect(status.stderr).toContain('no lab is running');
  });

  // Regression: `lab down` (fabric down) uninstalled every unit's state with it — the
  // orchestrator's store and CA, the nodes' keys — so the next `lab up` came up as a new fabric
  // (new CA, new admin password) and, over a kept store, nodes were refused as takeovers
  // ("registered with another key"). A stop keeps state; `npm run demo` twice is the same fabric.
  it('lab up after lab down resumes the same fabric: same CA, same admin password, same node IDs', {
    timeout: 240_000,
  }, async () => {
    const ca = join(lab.home, 'lab', 'hosts', 'orchestrator', 'state', 'orchestrator', 'ca.crt');
    const caBefore = await readFile(ca, 'utf8');
    const password = (await readFile(join(lab.home, 'lab', 'admin-password'), 'utf8')).trim();
    const ids = async () => {
      const api = new ApiClient(
        `https://127.0.0.1:${lab.orchPort}`,
        undefined,
        pinnedFetch({ caPem: caBefore }),
      );
      const admin = api.withToken((await api.login('admin', password)).token);
      return Object.fromEntries((await admin.nodes()).map((n) => [n.name, [n.nodeId, n.status]]));
    };
    const activeTokens = async () => {
      const api = new ApiClient(
        `https://127.0.0.1:${lab.orchPort}`,
        undefined,
        pinnedFetch({ caPem: caBefore }),
      );
      const admin = api.withToken((await api.login('admin', password)).token);
      return (await admin.tokens()).filter((t) => t.status === 'active').map((t) => `${t.id} for ${t.vm}`);
    };
    const up = await lab.cli('lab', 'up', '-f', lab.labFile, '--detach');
    expect(up.code, up.stderr + up.stdout + (await logTails(lab.home))).toBe(0);
    expect(await readFile(ca, 'utf8')).toBe(caBefore);
    const after = await ids();
    expect(Object.keys(after).sort()).toEqual(['aws-p1', 'aws-vm1', 'gcp-p1', 'gcp-vm1']);
    expect(Object.values(after).every(([, st]) => st === 'connected')).toBe(true);
    // The same keys: the same node IDs (an ID is derived from the node's key).
    expect(Object.fromEntries(Object.entries(after).map(([n, [id]]) => [n, id]))).toEqual(nodeIds);
    // Regression: each restarted unit got a fresh one-use enrolment token it never needed (it
    // logged in with its kept key), left valid on its host for 15 minutes. Unused ones are revoked.
    expect(await activeTokens()).toEqual([]);
    // Ready means every unit is up; the first flow may still wait for a grant to arrive.
    let res = await get(`http://${lab.vm1}:${lab.s1Port}/`);
    for (let i = 0; i < 20 && res.status !== 200; i++) {
      await sleep(250);
      res = await get(`http://${lab.vm1}:${lab.s1Port}/`);
    }
    expect(res.status, res.body + (await logTails(lab.home))).toBe(200);
    await expectLabGone(lab, [], state.hostsDir);
  });
});

/**
 * `npm run demo` runs `lab up` in the foreground: it must stay up until Ctrl-C and then take the
 * lab down. Regression: the foreground `lab up` exited right after "Ctrl-C stops the lab."
 * (a pending promise does not keep node alive), leaving the lab running with nobody to stop it.
 */
describe('trellis lab up in the foreground (npm run demo)', () => {
  let lab: LabFixture;
  let hostsDir = '';

  beforeAll(async () => {
    lab = await labFixture();
  });
  afterAll(async () => {
    await lab?.cli('lab', 'down');
    if (lab) await rm(lab.home, { recursive: true, force: true });
    if (hostsDir) await rm(dirname(hostsDir), { recursive: true, force: true });
  });

  it('stays up until SIGINT, then takes the lab down and exits 0', { timeout: 240_000 }, async () => {
    const child = spawn(process.execPath, [TRELLIS_BIN, 'lab', 'up', '-f', lab.labFile], {
      env: lab.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await until(
        'the lab to be ready',
        () => (out.includes('Ctrl-C stops the lab.') ? true : undefined),
        180_000,
      );
      hostsDir = (await lab.state()).hostsDir;
      await sleep(2_000);
      expect(child.exitCode, out).toBeNull();
      expect((await get(`http://${lab.vm1}:${lab.s1Port}/`)).status).toBe(200);
      child.kill('SIGINT');
      expect(await exited, out).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    expect(out).toContain('received SIGINT: stopping the lab…');
    expect(out).toMatch(/the lab is down \(\d+\.\d s\)/);
    expect(await processesMentioning(hostsDir)).toEqual([]);
    await expect(readFile(join(lab.home, 'lab', 'state.json'))).rejects.toThrow(/ENOENT/);
  });
});
