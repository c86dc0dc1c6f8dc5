import { access, chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { z } from 'zod';
import { TrellisError } from '../errors.js';
import type { HostStatus, UnitStatus } from './host-status.js';
import { type HostLayout, hostLayout } from './layout.js';
import { withHostLock } from './lock.js';
import { logTail } from './log-tail.js';
import { serviceManager } from './manager.js';
import { markedProcesses, stopGroup } from './processes.js';
import type { ServiceManager } from './service-manager.js';
import { UNIT_MARKER } from './supervise.js';
import { HostApply, parseHostDocument, type Unit, unitHash } from './unit.js';
import { readUnits, removeUnit, writeAtomic, writeUnit } from './unit-files.js';
import { endpointOpen, fileExists, type Probe } from './wait.js';

/**
 * `trellis host apply`: the on-host half of every deploy (SSH, Ansible, the lab): write the
 * files and unit descriptions it is given, have the service manager run them (systemd, else
 * `trellis supervise`), and wait until each unit is ready. Idempotent: an unchanged unit keeps
 * running untouched; a changed one restarts.
 */

export interface ApplyResult {
  status: HostStatus;
  /** Units that were (re)started by this apply. */
  changed: string[];
}

export async function hostApply(root: string, input: unknown): Promise<ApplyResult> {
  const req = parseHostDocument(HostApply, input, 'host apply');
  const layout = hostLayout(root);
  await prepareRoot(layout);
  return withHostLock(layout, () => applyLocked(layout, req));
}

/** The apply itself, for a caller that holds the host's lock (attach). */
export async function applyLocked(layout: HostLayout, req: z.output<typeof HostApply>): Promise<ApplyResult> {
  const root = layout.root;
  const installed = new Map((await readUnits(layout)).map((u) => [u.name, unitHash(u)]));
  const manager = serviceManager(layout);
  // Checked before anything is written: a refused unit must not be left installed (with its
  // token) for the next apply's sync to start.
  await refuseTakenPorts(
    manager,
    req.units.filter((u) => installed.get(u.name) !== unitHash(u)),
  );
  for (const f of req.files) {
    const path = join(root, f.path);
    if (f.ifAbsent && (await exists(path))) continue;
    await writeAtomic(path, f.content, f.mode);
    await chmod(path, f.mode);
  }
  const changed: string[] = [];
  for (const u of req.units) {
    await mkdir(layout.state(u.name), { recursive: true, mode: 0o700 });
    await mkdir(layout.data(u.name), { recursive: true, mode: 0o711 });
    await chmod(layout.data(u.name), 0o711);
    if (installed.get(u.name) === unitHash(u)) continue;
    // A ready file left by the previous process names listeners that are about to go.
    if (u.ready.file) await rm(u.ready.file, { force: true });
    await writeUnit(layout, u);
    changed.push(u.name);
  }
  await manager.sync(changed);
  await waitReady(layout, manager, req.units, req.readyTimeoutMs);
  return { status: await hostStatus(root), changed };
}

/**
 * `trellis host remove NAME…`: stop and uninstall units. Their tokens go; so does their state
 * (node key, certificate) — an uninstalled node's name stays its owner's until an admin deletes
 * it — unless `keepState`: `fabric down` is a stop, and the next `fabric up` must find the same
 * orchestrator store and CA, and nodes that log in with the keys they registered.
 */
export async function hostRemove(
  root: string,
  names: string[],
  opts: { keepState?: boolean; timeoutMs?: number } = {},
): Promise<HostStatus> {
  const layout = hostLayout(root);
  await mkdir(layout.run, { recursive: true, mode: 0o700 });
  return withHostLock(layout, () =>
    removeLocked(layout, names, opts.timeoutMs ?? 30_000, opts.keepState === true),
  );
}

async function removeLocked(
  layout: HostLayout,
  names: string[],
  timeoutMs: number,
  keepState: boolean,
): Promise<HostStatus> {
  const root = layout.root;
  const manager = serviceManager(layout);
  const present = new Set((await readUnits(layout)).map((u) => u.name));
  const gone = names.filter((n) => present.has(n));
  for (const n of gone) await removeUnit(layout, n);
  await manager.sync(gone);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = (await manager.units()).filter((u) => gone.includes(u.name));
    if (running.length === 0) break;
    if (Date.now() > deadline)
      throw new TrellisError(
        'TRELLIS_ERR_UNAVAILABLE',
        `units ${running.map((u) => u.name).join(', ')} did not stop within ${timeoutMs / 1000} s`,
      );
    await sleep(100);
  }
  for (const n of gone) {
    // A unit whose supervisor died (kill -9) is still running, unsupervised: stop it too.
    for (const pid of await markedProcesses(UNIT_MARKER, `${root}#${n}`))
      await stopGroup(pid).catch(() => undefined);
    if (!keepState) await rm(layout.state(n), { recursive: true, force: true });
    await rm(join(layout.secrets, `${n}.token`), { force: true });
  }
  return hostStatus(root);
}

export async function hostStatus(root: string): Promise<HostStatus> {
  const layout = hostLayout(root);
  const manager = serviceManager(layout);
  return {
    root,
    manager: manager.kind,
    pid: await manager.pid(),
    releases: await releases(layout),
    units: await manager.units(),
  };
}

export async function prepareRoot(layout: HostLayout): Promise<void> {
  // Modes are set, not just asked for: mkdir's are masked by the umask, and a hardened host (or
  // the lab, which runs under 077) would leave the root 0700 and the stores unable to traverse it.
  await mkdir(layout.root, { recursive: true, mode: 0o755 });
  await chmod(layout.root, 0o755);
  for (const d of [layout.units, layout.secrets, layout.logs, layout.run, join(layout.root, 'state')]) {
    await mkdir(d, { recursive: true, mode: 0o700 });
    await chmod(d, 0o700);
  }
  // Traversable, not listable: a store running as its own user (postgres) reaches its directory.
  await mkdir(join(layout.root, 'data'), { recursive: true, mode: 0o711 });
  await chmod(join(layout.root, 'data'), 0o711);
}

async function releases(layout: HostLayout): Promise<string[]> {
  try {
    const entries = await readdir(layout.releases);
    const complete: { id: string; at: number }[] = [];
    for (const id of entries) {
      const marker = join(layout.release(id), '.complete');
      if (await exists(marker))
        complete.push({ id, at: Number((await readFile(marker, 'utf8')).trim()) || 0 });
    }
    return complete.sort((a, b) => a.at - b.at).map((r) => r.id);
  } catch {
    return [];
  }
}

async function waitReady(
  layout: HostLayout,
  manager: ServiceManager,
  units: Unit[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const u of units) {
    const probes: Probe[] = u.ready.tcp.map(endpointOpen);
    if (u.ready.file) probes.push(fileExists(u.ready.file));
    const hash = unitHash(u);
    let firstRestarts: number | undefined;
    for (;;) {
      const st: UnitStatus | undefined = (await manager.units()).find((s) => s.name === u.name);
      if (st && st.hash === hash) {
        firstRestarts ??= st.restarts;
        if (st.pid !== null && (await allPass(probes))) break;
        // It crashed while starting: say so now, with its log, rather than at the timeout.
        if (st.restarts > firstRestarts + 1) throw await notReady(layout, u, 'keeps exiting while starting');
      }
      if (Date.now() > deadline) throw await notReady(layout, u, `was not ready after ${timeoutMs / 1000} s`);
      await sleep(200);
    }
  }
}

/**
 * A unit about to start for the first time whose ready port already accepts would look ready
 * at once — another process's listener answering for it (a second lab on the same addresses,
 * a stray daemon) — while it crash-loops on EADDRINUSE behind it. Say so before starting it.
 * A unit being restarted is not checked: its old process still holds its own port.
 */
async function refuseTakenPorts(manager: ServiceManager, starting: Unit[]): Promise<void> {
  const running = new Set((await manager.units()).filter((s) => s.pid !== null).map((s) => s.name));
  for (const u of starting) {
    if (running.has(u.name)) continue;
    for (const t of u.ready.tcp) {
      if (await endpointOpen(t)()) {
        throw new TrellisError(
          'TRELLIS_ERR_CONFLICT',
          `unit ${u.name} cannot start: ${t} is already in use by another process`,
          {
            hint: `find it with \`ss -ltnp 'sport = :${t.slice(t.lastIndexOf(':') + 1)}'\`; stop it, or give this host another address or port`,
          },
        );
      }
    }
  }
}

async function allPass(probes: Probe[]): Promise<boolean> {
  return (await Promise.all(probes.map((p) => p()))).every(Boolean);
}

async function notReady(layout: HostLayout, u: Unit, why: string): Promise<TrellisError> {
  return new TrellisError(
    'TRELLIS_ERR_UNAVAILABLE',
    `unit ${u.name} ${why}${await logTail(layout.log(u.name))}`,
    {
      hint: `its log is ${layout.log(u.name)}`,
    },
  );
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}
