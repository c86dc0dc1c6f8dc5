import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api-client/client.js';
import { pinnedFetch } from '../src/api-client/trust.js';
import { startService2 } from '../src/examples/hello/service2.js';
import { planAddresses } from '../src/lab/addresses.js';
import { parseEnvFile } from '../src/lab/env-file.js';
import { parseLabText } from '../src/lab/lab-file.js';
import type { LabState } from '../src/lab/state.js';
import { Supervisor } from '../src/lab/supervisor.js';
import { encodeProxyV2 } from '../src/wire/proxy-v2.js';
import { type CliResult, cliEnv, trellis } from './support/cli.js';
import { logTails } from './support/lab-logs.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dist = (p: string) => join(ROOT, 'dist', p);

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

/** A lab on random ports (and, where `vmBase` says, random addresses) so labs never collide. */
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
}

async function labFixture(vmBase: number | null): Promise<LabFixture> {
  const env = await cliEnv();
  const home = env.TRELLIS_HOME!;
  const orchPort = 20_000 + Math.floor(Math.random() * 30_000);
  const [procPort, s1Port, s2Port] = [orchPort + 1, orchPort + 2, orchPort + 3];
  const awsAddress = `127.0.1.${100 + Math.floor(Math.random() * 150)}`;
  // Without vmBase the VMs take the address plan's first two (127.0.2.1, .2).
  const [vm1, vm2] =
    vmBase === null ? ['127.0.2.1', '127.0.2.2'] : [`127.0.2.${vmBase}`, `127.0.2.${vmBase + 1}`];
  const address = (a: string) => (vmBase === null ? '' : `\n    address: ${a}`);
  const labFile = join(home, 'lab.yaml');
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
  - name: aws-vm1${address(vm1)}
    processors: [aws-p1]
    run:
      hostOwner: service1
      domain: hello
      workload: { module: ${dist('src/examples/hello/service1.js')}, env: { PORT: '${s1Port}' } }
      expose: { name: service1, port: ${s1Port} }
  - name: gcp-vm1${address(vm2)}
    processors: [gcp-p1]
    run:
      hostOwner: service2
      domain: hello
      serve: ['hello={address}:${s2Port}']
      workload: { module: ${dist('src/examples/hello/service2.js')}, env: { PORT: '${s2Port}' } }
`,
  );
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
    cli: (...args) => trellis(args, { env }),
    state: async () => JSON.parse(await readFile(join(home, 'lab', 'state.json'), 'utf8')) as LabState,
  };
}

/** `lab down` must leave nothing: no pid it knew of, no process mentioning the lab's home. */
async function expectLabGone(lab: LabFixture, pids: number[]): Promise<void> {
  const down = await lab.cli('lab', 'down');
  expect(down.code, down.stderr).toBe(0);
  expect(down.stdout).toContain('the lab is down');
  // The detached supervisor's parent is init, which may take a moment to reap it.
  await until('every lab pid to be gone', () => (pids.every(gone) ? true : undefined)).catch(() => {});
  expect(pids.filter((p) => !gone(p))).toEqual([]);
  expect(await processesMentioning(lab.home)).toEqual([]);
  await expect(readFile(join(lab.home, 'lab', 'state.json'))).rejects.toThrow(/ENOENT/);
}

/**
 * The whole lab as a user runs it, detached, with stand-ins for `trellis processor` and
 * `trellis agent` (so the lab's own behaviour is tested whatever state the data plane is in):
 * a real orchestrator, the real hello services, processes on their own loopback addresses.
 */
describe('trellis lab up/status/down (detached, stand-in processor and agent)', () => {
  let lab: LabFixture;
  let before: LabState;

  beforeAll(async () => {
    lab = await labFixture(null);
    // Stand-ins take the real commands' flags: a processor listens on --listen, an agent writes
    // --env-path and forks a helper (which must die with it). Both need their password file.
    const standIn = join(lab.home, 'stand-in.mjs');
    await writeFile(
      standIn,
      `import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
const [kind, ...rest] = process.argv.slice(2);
const flag = (name) => rest[rest.indexOf(name) + 1];
if (readFileSync(flag('--password-file'), 'utf8').trim().length < 8) process.exit(3);
if (kind === 'processor') {
  const [host, port] = flag('--listen').split(':');
  createServer((s) => s.end()).listen(Number(port), host);
} else {
  spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)', flag('--state-dir')], { stdio: 'ignore' });
  // The server side's stand-in delivers like the real agent: from its own VM address (the
  // hello service2 only accepts its local agent), on the serve port + 1.
  if (rest.includes('--serve')) {
    const [h, p] = flag('--serve').split('=')[1].split(':');
    createServer((c) => {
      const u = connect({ host: h, port: Number(p), localAddress: flag('--address') });
      c.pipe(u).pipe(c);
      u.on('error', () => c.destroy());
      c.on('error', () => u.destroy());
    }).listen(Number(p) + 1, flag('--address'));
  }
  // Registers as the real agent does (trellis deploy waits for the node to be connected) and
  // holds its event stream open, which is its liveness.
  const api = flag('--orchestrator') + '/api/v1';
  const post = (path, body, token) => fetch(api + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: 'Bearer ' + token }) },
    body: JSON.stringify(body),
  }).then((r) => r.json());
  const { token } = await post('/login', {
    username: flag('--hostowner'), domain: flag('--domain'),
    password: readFileSync(flag('--password-file'), 'utf8').trim(),
  });
  const publicKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'pem' });
  await post('/nodes/register', {
    name: flag('--vm'), addresses: [flag('--address')], publicKey, processors: flag('--processors').split(','),
  }, token);
  fetch(api + '/events?node=' + flag('--vm'), { headers: { authorization: 'Bearer ' + token } })
    .then((r) => r.body.pipeTo(new WritableStream())).catch(() => {});
  writeFileSync(flag('--env-path'), process.env.STANDIN_HELLO_ADDR ? 'HELLO_ADDR=' + process.env.STANDIN_HELLO_ADDR + '\\n' : '');
  setInterval(() => {}, 1e6);
}
process.on('SIGTERM', () => process.exit(0));
`,
    );
    const commands = join(lab.home, 'commands.json');
    await writeFile(
      commands,
      JSON.stringify({
        processor: [process.execPath, standIn, 'processor'],
        agent: [process.execPath, standIn, 'agent'],
      }),
    );
    lab.env.TRELLIS_LAB_COMMANDS_FOR_TESTS = commands;
    // The stand-ins call the lab's HTTPS orchestrator with the global fetch: let it trust the
    // lab's CA (created at the orchestrator's first start, before any stand-in runs).
    lab.env.NODE_EXTRA_CA_CERTS = join(lab.home, 'lab', 'orchestrator', 'ca.crt');
    // No fabric here: the stand-in agent points service1 at service2's stand-in agent relay.
    lab.env.STANDIN_HELLO_ADDR = `${lab.vm2}:${lab.s2Port + 1}`;
  });

  afterAll(async () => {
    // Never leave a lab behind, even when an assertion failed half-way.
    await lab?.cli('lab', 'down');
    if (lab) await rm(lab.home, { recursive: true, force: true });
  });

  it('lab up --detach starts everything and returns once it is ready', { timeout: 60_000 }, async () => {
    const up = await lab.cli('lab', 'up', '-f', lab.labFile, '--detach');
    expect(up.code, up.stderr + up.stdout).toBe(0);
    expect(up.stdout).toMatch(/starting orchestrator \(127\.0\.0\.1:\d+\)… ok \(\d+\.\d s\)/);
    expect(up.stdout).toContain(`starting processor aws-p1 (${lab.awsAddress}:${lab.procPort})… ok`);
    expect(up.stdout).toContain(`service1     http://127.0.2.1:${lab.s1Port}/`);
    // Issue 11 finding 7: the admin password stays in its 0600 file, never on stdout.
    const password = (await readFile(join(lab.home, 'lab', 'admin-password'), 'utf8')).trim();
    expect(up.stdout).not.toContain(password);
    expect(up.stdout).toContain(
      `Admin login:   admin, password in ${join(lab.home, 'lab', 'admin-password')}`,
    );
    before = await lab.state();
    expect(before.phase).toBe('ready');
  });

  it('lab status -o json describes the lab; the fabric is applied', async () => {
    const st = await lab.cli('lab', 'status', '-o', 'json');
    expect(st.code, st.stderr).toBe(0);
    // The lab's orchestrator serves HTTPS like a real one; the CA is in its data directory.
    const url = `https://127.0.0.1:${lab.orchPort}`;
    expect(JSON.parse(st.stdout)).toMatchObject({
      orchestrator: { url },
      processors: [
        // Stand-ins never register with the orchestrator.
        { name: 'aws-p1', address: lab.awsAddress, status: 'unregistered' },
        { name: 'gcp-p1', address: '127.0.1.1', status: 'unregistered' },
      ],
      vms: [
        { name: 'aws-vm1', address: '127.0.2.1' },
        { name: 'gcp-vm1', address: '127.0.2.2' },
      ],
      urls: { service1: `http://127.0.2.1:${lab.s1Port}/` },
    });

    const caPem = await readFile(join(lab.home, 'lab', 'orchestrator', 'ca.crt'), 'utf8');
    const api = new ApiClient(url, undefined, pinnedFetch({ caPem }));
    expect((await api.health()).status).toBe('ok');
    // Anything else answering there fails verification: the system store does not vouch for it.
    await expect(new ApiClient(url).health()).rejects.toThrow(/cannot verify the orchestrator/);
    const password = (await readFile(join(lab.home, 'lab', 'admin-password'), 'utf8')).trim();
    const { token } = await api.login('admin', password);
    const contracts = await api.withToken(token).contracts('hello');
    expect(contracts.map((c) => c.name)).toEqual(['hello']);
    expect(await readFile(join(lab.home, 'config.yaml'), 'utf8')).toContain(url);
    const secrets = await readFile(join(lab.home, 'lab', 'secrets.yaml'), 'utf8');
    expect(secrets).toMatch(/hello\/service1: /);
    expect(secrets).toMatch(/infra\/fabric-ops: /);
  });

  it('runs the hello workloads on their VM addresses', async () => {
    const res = await get(`http://127.0.2.1:${lab.s1Port}/`);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(
      new RegExp(`^Hello from 127\\.0\\.0\\.1:\\d+ to 127\\.0\\.2\\.1:${lab.s1Port}\\n`),
    );
    // No fabric here (no PROXY header): service2 sees the stand-in agent's relay on its own VM.
    expect(res.body).toMatch(
      new RegExp(`\\nHello from 127\\.0\\.2\\.2:\\d+ to 127\\.0\\.2\\.2:${lab.s2Port}\\n$`),
    );
  });

  it('lab up again says it is running and exits 0', async () => {
    const again = await lab.cli('lab', 'up', '-f', lab.labFile, '--detach');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(
      `a lab is already running (${lab.labFile}, supervisor pid ${before.supervisor.pid})`,
    );
  });

  it('restarts a child that dies', async () => {
    const old = before.children.find((c) => c.name === 'aws-p1')!.pid!;
    process.kill(old, 'SIGKILL');
    const fresh = await until('aws-p1 to be restarted', async () => {
      const c = (await lab.state()).children.find((x) => x.name === 'aws-p1')!;
      return c.pid !== null && c.pid !== old && c.restarts === 1 ? c.pid : undefined;
    });
    before.children.push({ ...before.children[0]!, name: 'aws-p1 (restarted)', pid: fresh });
  });

  it('lab down leaves no process behind', async () => {
    await expectLabGone(lab, [before.supervisor.pid, ...before.children.map((c) => c.pid!)]);
    const status = await lab.cli('lab', 'status');
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('no lab is running');
  });
});

/**
 * The same lab with the real `trellis processor` and `trellis agent`: service1 reaches
 * service2 only through the fabric, and service2 learns service1's address from the PROXY
 * header its agent prepends.
 */
describe('trellis lab with the real data plane (hello through the fabric)', () => {
  let lab: LabFixture;

  beforeAll(async () => {
    // Own VM addresses: a real agent binds fixed ports (7443, 7401, 9000…) on its VM's address.
    lab = await labFixture(100 + 2 * Math.floor(Math.random() * 70));
  });
  afterAll(async () => {
    await lab?.cli('lab', 'down');
    if (lab) await rm(lab.home, { recursive: true, force: true });
  });

  it('serves seed 001 end to end and stops without leftovers', { timeout: 90_000 }, async () => {
    const up = await lab.cli('lab', 'up', '-f', lab.labFile, '--detach');
    expect(up.code, up.stderr + up.stdout + (await logTails(lab.home))).toBe(0);
    const state = await lab.state();

    // Ready means every process is up; the first flow may still wait for a grant to arrive.
    let res = await get(`http://${lab.vm1}:${lab.s1Port}/`);
    for (let i = 0; i < 20 && res.status !== 200; i++) {
      await sleep(250);
      res = await get(`http://${lab.vm1}:${lab.s1Port}/`);
    }
    expect(res.status, res.body + (await logTails(lab.home))).toBe(200);
    expect(res.body).toMatch(new RegExp(`^Hello from 127\\.0\\.0\\.1:\\d+ to ${lab.vm1}:${lab.s1Port}\\n`));
    expect(res.body).toMatch(new RegExp(`\\nHello from ${lab.vm1}:\\d+ to ${lab.vm2}:${lab.s2Port}\\n$`));

    const st = await lab.cli('lab', 'status', '-o', 'json');
    expect(st.code, st.stderr + (await logTails(lab.home))).toBe(0);
    const status = JSON.parse(st.stdout) as { processors: { name: string; status: string }[] };
    expect(status.processors.map((p) => [p.name, p.status])).toEqual([
      ['aws-p1', 'connected'],
      ['gcp-p1', 'connected'],
    ]);

    await expectLabGone(lab, [state.supervisor.pid, ...state.children.map((c) => c.pid!)]);
  });
});
