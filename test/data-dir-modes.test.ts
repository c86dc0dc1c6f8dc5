import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startService2 } from '../examples/hello/src/service2.js';
import { ApiClient } from '../src/api-client/client.js';
import { pinCa, pinnedFetch } from '../src/api-client/trust.js';
import { parseFabricText } from '../src/apply/index.js';
import { cliEnv, TRELLIS_BIN, trellis } from './support/cli.js';
import { TestFabric } from './support/fabric.js';
import { storeTargets } from './support/stores.js';

// Issue 14, must-show 8 (the `ls -la` part): data directories are 0700 and every file in them
// 0600, whatever the umask the process was started with — PGlite sets 0666 on its files itself.
// Own loopback range (127.0.51.3x–6x), apart from the other suites.
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HELLO = readFileSync(join(ROOT, 'examples/hello/fabric.yaml'), 'utf8');
const BASE = 20000 + Math.floor(Math.random() * 20000);

/** Everything under `dir` whose mode is not 0700 (directories) or 0600 (the rest), as `ls -la` shows it. */
async function notPrivate(dir: string): Promise<string[]> {
  const bad: string[] = [];
  const walk = async (p: string) => {
    // A running node replaces files by rename (x.tmp → x): an entry readdir listed may be gone
    // by the time it is looked at, and a file that no longer exists exposes nothing.
    const st = await lstat(p).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (!st) return;
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) bad.push(`${mode.toString(8)} ${p}/`);
      for (const e of await readdir(p)) await walk(join(p, e));
    } else if (!st.isSymbolicLink() && mode !== 0o600) bad.push(`${mode.toString(8)} ${p}`);
  };
  await walk(dir);
  return bad;
}

async function count(dir: string): Promise<number> {
  let n = 0;
  const walk = async (p: string) => {
    n++;
    if ((await lstat(p)).isDirectory()) for (const e of await readdir(p)) await walk(join(p, e));
  };
  await walk(dir);
  return n;
}

/** `trellis orchestrator` under `umask 022`, as a shell started from a default login would run it. */
async function orchestratorUnderUmask022(dataDir: string, env: NodeJS.ProcessEnv, listen: string) {
  const child: ChildProcess = spawn(
    '/bin/sh',
    [
      '-c',
      'umask 022 && exec "$0" "$@"',
      process.execPath,
      TRELLIS_BIN,
      'orchestrator',
      '--listen',
      listen,
      '--data-dir',
      dataDir,
    ],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  // HTTPS, the default a user gets: its server certificate and key are in the data dir too.
  const { url, fingerprint } = await new Promise<{ url: string; fingerprint: string }>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      const m = /listening on (https?:\/\/[^\s]+)/.exec(stderr);
      const fp = /ca fingerprint: (sha256:[0-9a-f]{64})/.exec(stderr);
      if (m && fp) resolve({ url: m[1]!, fingerprint: fp[1]! });
    });
    child.once('exit', (code) => reject(new Error(`orchestrator exited with ${code}: ${stderr}`)));
  });
  const stop = () =>
    new Promise<void>((r) => {
      if (child.exitCode !== null || child.signalCode !== null) return r();
      child.once('exit', () => r());
      child.kill('SIGTERM');
    });
  return { url, fingerprint, stop };
}

describe('data directory modes (must-show 8)', () => {
  for (const target of storeTargets()) {
    it(`a fresh orchestrator data dir (${target.name}) is 0700 with 0600 files, under umask 022`, async () => {
      const store = await target.create();
      const env = await cliEnv({ TRELLIS_ADMIN_PASSWORD: 'modes-admin-pw' });
      if (store.databaseUrl) env.DATABASE_URL = store.databaseUrl;
      else delete env.DATABASE_URL;
      const dataDir = join(store.dataDir, 'orchestrator');
      const o = await orchestratorUnderUmask022(dataDir, env, '127.0.51.30:0');
      try {
        // Some writes, so the store has created what it creates while running.
        const api = new ApiClient(
          o.url,
          undefined,
          pinnedFetch({ caPem: await pinCa(o.url, o.fingerprint) }),
        );
        const { token } = await api.login('admin', 'modes-admin-pw');
        const admin = api.withToken(token);
        await admin.apply(parseFabricText(HELLO, 'fabric.yaml').spec, {
          prune: false,
          dryRun: false,
          passwords: {},
        });
        expect(await notPrivate(dataDir)).toEqual([]);
      } finally {
        await o.stop();
      }
      // And after a clean stop (the store's last writes).
      expect(await notPrivate(dataDir)).toEqual([]);
      console.log(`${target.name} data dir: ${await count(dataDir)} entries, all 0700/0600`);
      await store.cleanup();
    }, 60_000);
  }

  describe('state dirs of a processor and an agent, started under umask 022', () => {
    let f: TestFabric;
    let service2: Awaited<ReturnType<typeof startService2>>;
    let umask: number;

    beforeAll(async () => {
      // The children inherit the test process's umask.
      umask = process.umask(0o022);
      f = await TestFabric.start(HELLO);
      await f.processor('aws-p1', '127.0.51.31', BASE);
      await f.processor('gcp-p1', '127.0.51.32', BASE + 1);
      service2 = await startService2('127.0.51.36', BASE + 10);
      await f.agent({
        vm: 'gcp-vm1',
        hostOwner: 'service2',
        domain: 'hello',
        address: '127.0.51.36',
        processors: ['gcp-p1'],
        serve: [`hello=127.0.51.36:${BASE + 10}`],
      });
      await f.agent({
        vm: 'aws-vm1',
        hostOwner: 'service1',
        domain: 'hello',
        address: '127.0.51.35',
        processors: ['aws-p1'],
      });
    }, 90_000);

    afterAll(async () => {
      process.umask(umask);
      service2?.close();
      await f?.stop();
    });

    it('every dir 0700, every file 0600', async () => {
      for (const name of ['aws-p1', 'gcp-p1', 'aws-vm1', 'gcp-vm1']) {
        // The agent's env file and bundle are in place: what a running node has written.
        expect(await notPrivate(join(f.dir, name)), name).toEqual([]);
      }
      expect(await readdir(join(f.dir, 'aws-vm1'))).toEqual(
        expect.arrayContaining(['bundle.json', 'fabric.env']),
      );
      expect(await notPrivate(join(f.dir, 'orchestrator'))).toEqual([]);
    });
  });

  it('a lab directory ($TRELLIS_HOME/lab) is 0700 with 0600 files, under umask 022', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'trellis-modes-lab-'));
    const env = await cliEnv();
    const dist = (p: string) => join(ROOT, 'examples/dist/hello/src', p);
    const labFile = join(dir, 'lab.yaml');
    await writeFile(join(dir, 'fabric.yaml'), HELLO.replace(/secretsFile: .*\n/, ''));
    await writeFile(
      labFile,
      `apiVersion: trellis/v1
kind: Lab
fabric: fabric.yaml
switchOwner: { domain: infra, name: fabric-ops }
orchestrator: { address: 127.0.51.60, port: ${BASE + 20} }
processors:
  - { name: aws-p1, address: 127.0.51.61 }
  - { name: aws-p2, address: 127.0.51.62 }
  - { name: gcp-p1, address: 127.0.51.63 }
vms:
  - name: aws-vm1
    address: 127.0.51.65
    processors: [aws-p1]
    run:
      hostOwner: service1
      domain: hello
      workload: { module: ${dist('service1.js')}, env: { PORT: '8001' } }
      expose: { name: service1, port: 8001 }
  - name: gcp-vm1
    address: 127.0.51.66
    processors: [gcp-p1]
    run:
      hostOwner: service2
      domain: hello
      serve: ['hello={address}:8002']
      workload: { module: ${dist('service2.js')}, env: { PORT: '8002' } }
`,
    );
    const sh = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        const c = spawn(
          '/bin/sh',
          ['-c', 'umask 022 && exec "$0" "$@"', process.execPath, TRELLIS_BIN, ...args],
          {
            env,
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let out = '';
        c.stdout.on('data', (d) => {
          out += d;
        });
        c.stderr.on('data', (d) => {
          out += d;
        });
        c.once('exit', (code) => resolve({ code: code ?? -1, out }));
      });
    try {
      const up = await sh(['lab', 'up', '-f', labFile, '--detach']);
      expect(up.code, up.out).toBe(0);
      const lab = join(env.TRELLIS_HOME!, 'lab');
      expect(await notPrivate(lab)).toEqual([]);
      console.log(`lab dir: ${await count(lab)} entries, all 0700/0600`);
      // Each lab host's root (linked as lab/hosts) keeps what holds keys, tokens, units and logs private.
      const hosts = join(lab, 'hosts');
      for (const h of await readdir(hosts)) {
        for (const d of ['state', 'secrets', 'units', 'run', 'log'])
          expect(await notPrivate(join(hosts, h, d)), `${h}/${d}`).toEqual([]);
      }
    } finally {
      await trellis(['lab', 'down'], { env });
      const hostsRoot = await readFile(join(env.TRELLIS_HOME!, 'lab', 'data-dir'), 'utf8').catch(() => '');
      await rm(dir, { recursive: true, force: true });
      if (hostsRoot.trim()) await rm(hostsRoot.trim(), { recursive: true, force: true });
    }
  }, 180_000);
});
