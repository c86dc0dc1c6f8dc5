import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { readSuperviseStatus, type UnitStatus } from './host-status.js';
import type { HostLayout } from './layout.js';
import type { ServiceManager } from './service-manager.js';
import { runningSupervisor } from './supervise.js';
import { unitHash } from './unit.js';
import { readUnits } from './unit-files.js';

export function superviseManager(layout: HostLayout): ServiceManager {
  return {
    kind: 'supervise',
    async sync() {
      const pid = await runningSupervisor(layout);
      if (pid !== undefined) {
        // It re-reads R/units: changed descriptions restart, removed ones stop.
        process.kill(pid, 'SIGHUP');
        return;
      }
      if ((await readUnits(layout)).length > 0) await startSupervisor(layout);
    },
    async units(): Promise<UnitStatus[]> {
      const pid = await runningSupervisor(layout);
      const status = pid === undefined ? undefined : await readSuperviseStatus(layout);
      if (status && status.pid === pid) return status.units;
      // Nothing runs them: what is installed, all down.
      return (await readUnits(layout)).map((u) => ({
        name: u.name,
        kind: u.kind,
        hash: `${unitHash(u)}-not-running`,
        pid: null,
        restarts: 0,
        labels: u.labels,
        log: layout.log(u.name),
      }));
    },
    async pid() {
      return (await runningSupervisor(layout)) ?? null;
    },
  };
}

/** Starts `trellis supervise --root R` detached from this command (and from an SSH session). */
export async function startSupervisor(layout: HostLayout): Promise<void> {
  await mkdir(layout.logs, { recursive: true, mode: 0o700 });
  const out = await open(join(layout.logs, 'supervise.log'), 'a', 0o600);
  try {
    const child = spawn(process.execPath, [process.argv[1]!, 'supervise', '--root', layout.root], {
      detached: true,
      stdio: ['ignore', out.fd, out.fd],
      cwd: layout.root,
      env: { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: process.env.LANG ?? 'C.UTF-8' },
    });
    child.unref();
  } finally {
    await out.close();
  }
}
