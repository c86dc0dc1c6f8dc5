import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostStatus } from '../src/host/host-status.js';
import type { HostApply } from '../src/host/unit.js';
import { cliEnv, trellis } from './support/cli.js';
import { until } from './support/wait.js';

/**
 * `trellis host apply|status|remove` and `trellis supervise`, on this machine: what runs on a
 * host where systemd does not — units kept running (Restart=always), an unchanged apply that
 * touches nothing, a changed one that restarts, removal that leaves no process.
 */

const ADDRESS = '127.0.131.1';
const PORT = 18131;

function doc(marker: string, token?: string): HostApply {
  return {
    apiVersion: 'trellis/v1',
    kind: 'HostApply',
    units: [
      {
        name: 'web',
        kind: 'workload',
        description: 'a static file server',
        exec: ['/usr/bin/env', 'python3', '-m', 'http.server', '--bind', ADDRESS, String(PORT)],
        env: { MARKER: marker },
        envFiles: [],
        cwd: '/',
        after: [],
        ready: { tcp: [`${ADDRESS}:${PORT}`] },
        labels: { role: 'workload' },
      },
    ],
    files: token ? [{ path: 'secrets/web.token', mode: 0o600, content: token }] : [],
  };
}

describe('host units under trellis supervise', () => {
  let root: string;
  let env: NodeJS.ProcessEnv;
  const host = async (args: string[], input?: string) => {
    const r = await trellis(['host', ...args, '--root', root], {
      env,
      ...(input !== undefined && { input }),
    });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  const status = async () => (await host(['status', '-o', 'json'])) as HostStatus;
  const web = async () => (await status()).units.find((u) => u.name === 'web');

  beforeAll(async () => {
    env = await cliEnv({ TRELLIS_SERVICE_MANAGER: 'supervise' });
    root = join(await mkdtemp(join(tmpdir(), 'trellis-host-')), 'opt', 'trellis');
  });
  afterAll(async () => {
    await trellis(['host', 'remove', 'web', '--root', root], { env });
    await rm(join(root, '..', '..'), { recursive: true, force: true });
  });

  // Regression: a port already held by another process passed the ready probe at once, so a
  // second lab on the same addresses "started" an orchestrator that was crash-looping behind it.
  it('a new unit whose port another process holds is refused by name, and nothing is installed', async () => {
    const squatter = createServer().listen(PORT, ADDRESS);
    await once(squatter, 'listening');
    try {
      const r = await trellis(['host', 'apply', '--root', root, '-f', '-'], {
        env,
        input: JSON.stringify(doc('squatted', 'not-to-be-written')),
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `unit web cannot start: ${ADDRESS}:${PORT} is already in use by another process`,
      );
      expect(existsSync(join(root, 'units', 'web.json'))).toBe(false);
      expect(existsSync(join(root, 'secrets', 'web.token'))).toBe(false);
    } finally {
      squatter.close();
    }
  });

  it('apply starts the unit and waits until its port accepts; files it writes are private', async () => {
    const res = (await host(['apply', '-f', '-'], JSON.stringify(doc('one', 'secret-token')))) as {
      changed: string[];
      status: HostStatus;
    };
    expect(res.changed).toEqual(['web']);
    expect(res.status.manager).toBe('supervise');
    expect((await fetch(`http://${ADDRESS}:${PORT}/`)).status).toBe(200);
    expect((await stat(join(root, 'secrets', 'web.token'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(root, 'state'))).mode & 0o777).toBe(0o700);
    // A clean environment: nothing of the caller's (its TRELLIS_HOME) leaks into the unit.
    const environ = (await readFile(`/proc/${(await web())!.pid}/environ`, 'utf8')).split('\0');
    expect(environ).toContain('MARKER=one');
    expect(environ.some((e) => e.startsWith('TRELLIS_HOME='))).toBe(false);
  });

  it('a unit killed with -9 is restarted (Restart=always)', async () => {
    const before = (await web())!;
    process.kill(before.pid!, 'SIGKILL');
    const after = await until('web to be restarted', async () => {
      const u = await web();
      return u?.pid && u.pid !== before.pid ? u : undefined;
    });
    expect(after.restarts).toBe(before.restarts + 1);
  });

  it('the same apply again changes nothing (same pid); a changed unit restarts', async () => {
    const pid = (await web())!.pid;
    const same = await host(['apply', '-f', '-'], JSON.stringify(doc('one')));
    expect(same.changed).toEqual([]);
    expect((await web())!.pid).toBe(pid);
    const changed = await host(['apply', '-f', '-'], JSON.stringify(doc('two')));
    expect(changed.changed).toEqual(['web']);
    expect((await web())!.pid).not.toBe(pid);
  });

  it('regression: a supervisor killed with -9 leaves an orphan; the next apply stops it and runs one copy', async () => {
    const st = await status();
    const orphan = (await web())!.pid!;
    process.kill(st.pid!, 'SIGKILL');
    await until('the supervisor to be gone', async () => (existsSync(`/proc/${st.pid}`) ? undefined : true));
    // Its unit still runs, unsupervised, holding the port.
    expect(existsSync(`/proc/${orphan}`)).toBe(true);
    const res = await host(['apply', '-f', '-'], JSON.stringify(doc('two')));
    expect(res.status.pid).not.toBe(st.pid);
    await until('the orphan to be stopped', async () => (existsSync(`/proc/${orphan}`) ? undefined : true));
    expect((await fetch(`http://${ADDRESS}:${PORT}/`)).status).toBe(200);
  });

  it('two applies at once are serialised by the host lock; a lock left by a dead process is taken over', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(root, 'run', 'host.lock'), '999999\n');
    const [a, b] = await Promise.all([
      trellis(['host', 'apply', '-f', '-', '--root', root], { env, input: JSON.stringify(doc('three')) }),
      trellis(['host', 'apply', '-f', '-', '--root', root], { env, input: JSON.stringify(doc('four')) }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(existsSync(join(root, 'run', 'host.lock'))).toBe(false);
    // One server, not two fighting for the port.
    expect((await status()).units).toHaveLength(1);
    expect((await fetch(`http://${ADDRESS}:${PORT}/`)).status).toBe(200);
    // Its 30 s timeout ran out once in CI (session 9): both applies had taken the lock at once
    // (src/host/pid-lock.ts, fixed; regression test in src/host/pid-lock.test.ts). Two CLI starts
    // and two unit restarts one after the other take ~2 s alone; under a loaded CI run, more.
  }, 60_000);

  it('remove stops the unit, deletes its token; the supervisor exits with nothing left to run', async () => {
    const st = await status();
    const pid = (await web())!.pid!;
    const after = (await host(['remove', 'web'])) as HostStatus;
    expect(after.units).toEqual([]);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(join(root, 'secrets', 'web.token'))).toBe(false);
    await until('the supervisor to exit', async () => (existsSync(`/proc/${st.pid}`) ? undefined : true));
  });

  it('a malformed document is refused by name, and nothing is written', async () => {
    const r = await trellis(['host', 'apply', '-f', '-', '--root', root], {
      env,
      input: JSON.stringify({ ...doc('x'), units: [{ name: 'Bad Name' }] }),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/host apply: units\.0\.\w+/);
    expect(existsSync(join(root, 'units', 'Bad Name.json'))).toBe(false);
  });
});
