import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { UnitStatus } from './host-status.js';
import type { HostLayout } from './layout.js';
import type { ServiceManager } from './service-manager.js';
import { renderSystemdUnit, systemdName } from './systemd-unit.js';
import { unitHash } from './unit.js';
import { readUnits } from './unit-files.js';

const run = promisify(execFile);
const UNIT_DIR = process.env.TRELLIS_SYSTEMD_DIR ?? '/etc/systemd/system';

async function systemctl(...args: string[]): Promise<string> {
  return (await run('systemctl', args)).stdout;
}

export function systemdManager(layout: HostLayout): ServiceManager {
  const marker = `trellis-root: ${layout.root};`;
  return {
    kind: 'systemd',
    async sync(changed) {
      const units = await readUnits(layout);
      const wanted = new Set(units.map((u) => `${systemdName(layout.root, u.name)}.service`));
      // Units of this root that are no longer described: stop, disable, delete.
      for (const f of await readdir(UNIT_DIR).catch(() => [] as string[])) {
        if (!f.startsWith('trellis-') || wanted.has(f)) continue;
        const text = await readFile(join(UNIT_DIR, f), 'utf8').catch(() => '');
        if (!text.includes(marker)) continue;
        await systemctl('disable', '--now', f).catch(() => undefined);
        await rm(join(UNIT_DIR, f), { force: true });
      }
      for (const u of units) {
        const file = join(UNIT_DIR, `${systemdName(layout.root, u.name)}.service`);
        await writeFile(file, renderSystemdUnit(layout.root, u, unitHash(u), layout.log(u.name)), {
          mode: 0o644,
        });
      }
      await systemctl('daemon-reload');
      for (const u of units) {
        const name = `${systemdName(layout.root, u.name)}.service`;
        await systemctl('enable', name);
        await systemctl(changed.includes(u.name) ? 'restart' : 'start', name);
      }
    },
    async units(): Promise<UnitStatus[]> {
      const out: UnitStatus[] = [];
      for (const u of await readUnits(layout)) {
        const name = `${systemdName(layout.root, u.name)}.service`;
        const show = await systemctl('show', '-p', 'MainPID', '-p', 'NRestarts', name).catch(() => '');
        const prop = (k: string) =>
          Number(/^(\w+)=(.*)$/m.exec(show.split('\n').find((l) => l.startsWith(`${k}=`)) ?? '')?.[2] ?? 0);
        const text = await readFile(join(UNIT_DIR, name), 'utf8').catch(() => '');
        const hash = /trellis-hash: (\w+)/.exec(text)?.[1] ?? 'unknown';
        out.push({
          name: u.name,
          kind: u.kind,
          hash,
          pid: prop('MainPID') || null,
          restarts: prop('NRestarts'),
          labels: u.labels,
          log: layout.log(u.name),
        });
      }
      return out;
    },
    async pid() {
      return null;
    },
  };
}
