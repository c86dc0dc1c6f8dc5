import { readFile, rm } from 'node:fs/promises';
import { usePrivateUmask } from '../node/runtime/private-files.js';
import { readEnvFile } from '../workload/env-file.js';
import type { UnitStatus } from './host-status.js';
import { type HostLayout, hostLayout } from './layout.js';
import { isAlive, markedProcesses, stopGroup } from './processes.js';
import { type ChildSpec, Supervisor } from './supervisor.js';
import { startOrder, type Unit, unitHash } from './unit.js';
import { readUnits, writeAtomic } from './unit-files.js';

/**
 * `trellis supervise --root R`: systemd's job where there is no systemd. Runs every unit in
 * R/units, in order, restarting whatever exits (Restart=always, 0.5 s doubling to 5 s); SIGHUP
 * re-reads the units (changed ones restart, removed ones stop, new ones start); SIGTERM stops
 * them all, later units first. It exits by itself once no unit is left to run.
 */

/** In every unit's environment: finds a crashed supervisor's orphans, and only this root's. */
export const HOST_MARKER = 'TRELLIS_HOST_ROOT';
/** `ROOT#UNIT`: lets `host remove` find a unit's processes even when no supervisor runs. */
export const UNIT_MARKER = 'TRELLIS_HOST_UNIT';

export async function superviseHost(root: string, log: (line: string) => void): Promise<void> {
  usePrivateUmask();
  const layout = hostLayout(root);
  await claimPidFile(layout);
  // A supervisor killed with -9 leaves its units running (each leads its own process group):
  // stop them, or their restarted twins would find their ports taken.
  for (const pid of await markedProcesses(HOST_MARKER, root)) {
    log(`stopping pid ${pid}, left by an earlier supervisor`);
    await stopGroup(pid).catch(() => undefined);
  }

  const running = new Map<string, { unit: Unit; hash: string }>();
  const writeStatus = async () => {
    const states = new Map(supervisor.states().map((s) => [s.name, s]));
    const units: UnitStatus[] = [...running.values()].map(({ unit, hash }) => ({
      name: unit.name,
      kind: unit.kind,
      hash,
      pid: states.get(unit.name)?.pid ?? null,
      restarts: states.get(unit.name)?.restarts ?? 0,
      labels: unit.labels,
      log: layout.log(unit.name),
    }));
    await writeAtomic(layout.status, `${JSON.stringify({ pid: process.pid, units }, null, 2)}\n`, 0o600);
  };
  let statusWrite = Promise.resolve();
  const supervisor = new Supervisor({
    log,
    onChange: () => {
      statusWrite = statusWrite.then(writeStatus).catch(() => undefined);
    },
  });

  let stopping = false;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    log(`${why}: stopping every unit`);
    await supervisor.stop();
    running.clear();
    await statusWrite;
    await writeStatus().catch(() => undefined);
    await rm(layout.supervisePid, { force: true });
    done();
  };

  // One reload at a time; a SIGHUP during one runs another after it.
  let reloading = Promise.resolve();
  const reload = () => {
    reloading = reloading
      .then(async () => {
        if (stopping) return;
        let wanted: Unit[];
        try {
          wanted = startOrder(await readUnits(layout));
        } catch (err) {
          log(`not reloading: ${(err as Error).message}`);
          return;
        }
        const want = new Map(wanted.map((u) => [u.name, unitHash(u)]));
        // Stop first (later units first), so a changed unit's new process finds its port free.
        const stale = [...running.values()]
          .filter(({ unit, hash }) => want.get(unit.name) !== hash)
          .reverse();
        for (const { unit } of stale) {
          await supervisor.remove(unit.name);
          running.delete(unit.name);
          log(`stopped ${unit.name}`);
        }
        for (const u of wanted) {
          if (running.has(u.name) || stopping) continue;
          running.set(u.name, { unit: u, hash: want.get(u.name)! });
          await supervisor.start(childSpec(u, layout, wanted.indexOf(u)));
          log(`started ${u.name}`);
        }
        await writeStatus();
        if (running.size === 0) await stop('no unit left');
      })
      // A failed reload must not end the supervisor: the units it runs would be orphaned.
      .catch((err: unknown) => log(`reload failed: ${(err as Error).message}`));
    return reloading;
  };

  process.on('SIGHUP', () => void reload());
  for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, () => void stop(`received ${s}`));
  await reload();
  await finished;
}

function childSpec(u: Unit, layout: HostLayout, stage: number): ChildSpec {
  return {
    name: u.name,
    kind: u.kind,
    stage,
    command: u.exec[0]!,
    args: u.exec.slice(1),
    // A clean environment, as systemd gives: nothing of the shell that started the supervisor
    // (an SSH session's variables, a password someone exported) leaks into a unit.
    env: async () => {
      const fromFiles: Record<string, string> = {};
      for (const f of u.envFiles) Object.assign(fromFiles, await readEnvFile(f));
      return {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        LANG: process.env.LANG ?? 'C.UTF-8',
        HOME: layout.root,
        ...fromFiles,
        ...u.env,
        [HOST_MARKER]: layout.root,
        [UNIT_MARKER]: `${layout.root}#${u.name}`,
      };
    },
    cwd: u.cwd,
    log: layout.log(u.name),
  };
}

/** One supervisor per root: a second one would start every unit twice. */
async function claimPidFile(layout: HostLayout): Promise<void> {
  const other = await runningSupervisor(layout);
  if (other !== undefined) throw new Error(`a supervisor already runs for ${layout.root} (pid ${other})`);
  await writeAtomic(layout.supervisePid, `${process.pid}\n`, 0o600);
}

/** The pid of this root's live supervisor, if one runs (a reused pid is not taken for it). */
export async function runningSupervisor(layout: HostLayout): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number((await readFile(layout.supervisePid, 'utf8')).trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !(await isAlive(pid))) return undefined;
  try {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    if (!argv.includes('supervise') || !argv.includes(layout.root)) return undefined;
  } catch {
    // no /proc: trust the pid file
  }
  return pid;
}
