import { chmod, mkdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ApiClient } from '../api-client/client.js';
import { pinnedFetch } from '../api-client/trust.js';
import { type LoadedApp, loadAppFile } from '../app/app-file.js';
import { loadFabricFile } from '../apply/index.js';
import { deployRemote } from '../deploy/remote-deploy.js';
import { TrellisError } from '../errors.js';
import { fabricUp } from '../fabric/up.js';
import { keepFabricLogin } from '../home/fabric-login.js';
import type { HostStatus } from '../host/host-status.js';
import { isAlive } from '../host/processes.js';
import { loadInventory } from '../inventory/inventory.js';
import { YAML } from '../lazy-yaml.js';
import { tightenTree, usePrivateUmask } from '../node/runtime/private-files.js';
import { connect } from '../remote/connection.js';
import { remoteStatus } from '../remote/remote-host.js';
import type { AddressPlan } from './addresses.js';
import { labDown } from './down.js';
import { labHostsDir } from './host-roots.js';
import { exposeName, type LabApp, labApps } from './lab-apps.js';
import { LAB_ORCHESTRATOR_HOST, type LoadedLab } from './lab-file.js';
import { labInventory } from './lab-inventory.js';
import { noCopy } from './lab-target.js';
import { loadLab } from './load.js';
import {
  claimState,
  type LabPaths,
  type LabState,
  labOrchestratorData,
  labPaths,
  readState,
  writeState,
} from './state.js';

/**
 * `trellis lab up`: the lab is an inventory of hosts on this machine (one loopback address and
 * one trellis_root each, `ansible_connection: local`), brought up through the same code as real
 * hosts — `fabric up` for the orchestrator and processors, then `deploy` for every VM the lab
 * file runs something on. Each host's units are kept running by its own `trellis supervise`,
 * so a detached lab needs no process of its own; in the foreground, Ctrl-C takes it down.
 */

export interface UpOptions {
  labFile: string;
  detach: boolean;
  out(text: string): void;
  paths?: LabPaths;
}

export type UpResult = { started: boolean; state: LabState | undefined };

export async function labUp(opts: UpOptions): Promise<UpResult> {
  const paths = opts.paths ?? labPaths();
  const existing = await readState(paths);
  if (existing) {
    const how = await labCondition(existing);
    if (how !== 'gone') {
      opts.out(`a lab is already ${how === 'ready' ? 'running' : 'starting'} (${existing.labFile})\n`);
      if (how === 'ready') opts.out(summary(existing, paths));
      return { started: false, state: existing };
    }
    // Its `lab up` died half-way, or its hosts were stopped behind its back: clear what is left.
    opts.out('cleaning up a lab that is no longer running…\n');
    await labDown({ paths, out: opts.out });
  }

  const { lab, addresses } = await loadLab(opts.labFile);
  // The lab directory and what Trellis writes there are private, whatever the shell's umask.
  usePrivateUmask();
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await chmod(paths.dir, 0o700);
  await tightenTree(paths.dir);
  const hostsDir = await labHostsDir(paths);
  const apps = await labApps(lab, paths.app);
  for (const a of apps.synthesised) await writePrivate(a.file, YAML().stringify(a.spec));
  await writePrivate(
    paths.inventory,
    `# Written by \`trellis lab up -f ${lab.file}\`: the lab's hosts, all on this machine.\n${YAML().stringify(
      labInventory(lab.spec, addresses, hostsDir),
    )}`,
  );
  const inventory = await loadInventory(paths.inventory);
  const state = initialState(lab, addresses, hostsDir, paths, apps.byDomain);
  if (!(await claimState(paths, state))) {
    throw new TrellisError('TRELLIS_ERR_CONFLICT', 'another `trellis lab up` started at the same time', {
      hint: '`trellis lab status` shows it; `trellis lab down` stops it',
    });
  }

  // Ctrl-C (or a TERM) while starting: the children it reaches fail the step under way, and
  // the lab comes down again; after start-up it is the foreground lab's way to stop.
  let signalled: NodeJS.Signals | undefined;
  let wake = () => {};
  const onSignal = (s: NodeJS.Signals) => {
    signalled = s;
    wake();
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  if (!opts.detach) for (const s of signals) process.on(s, onSignal);
  const stopSignals = () => {
    for (const s of signals) process.off(s, onSignal);
  };

  try {
    const fabric = await loadFabricFile(lab.fabricFile);
    const up = await fabricUp(inventory, fabric, {
      release: noCopy,
      connect,
      secretsFile: paths.secrets,
      out: (l) => opts.out(`${l}\n`),
    });
    opts.out(`${up.lines.join('\n')}\n`);
    await keepFabricLogin(up);
    await linkAdminPassword(paths);
    const admin = new ApiClient(up.url, undefined, pinnedFetch({ caPem: up.caPem })).withToken(
      up.session.token,
    );
    // The lab file's `run` entries are the seed's deployment table: each one is a `trellis
    // deploy`. They are independent (a client waits for its server's grant, not its start).
    const loaded = new Map<string, Promise<LoadedApp>>();
    const appOf = (domain: string) => {
      if (!loaded.has(domain)) loaded.set(domain, loadAppFile(apps.byDomain.get(domain)!.file));
      return loaded.get(domain)!;
    };
    const results = await Promise.allSettled(
      lab.spec.vms.flatMap((vm) => {
        const run = vm.run;
        if (!run) return [];
        return [
          (async () => {
            const res = await deployRemote(
              {
                inventory,
                app: await appOf(run.domain),
                hostOwner: run.hostOwner,
                vm: vm.name,
                domain: run.domain,
              },
              { admin, release: noCopy, connect },
            );
            opts.out(`deployed ${run.domain}/${run.hostOwner} on ${vm.name}: ${res.lines.at(-1)}\n`);
          })(),
        ];
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (signalled) throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', `received ${signalled}`);
    state.phase = 'ready';
    await writeState(paths, state);
  } catch (err) {
    opts.out(`${signalled ? `received ${signalled}` : 'start-up failed'}: taking the lab down…\n`);
    await labDown({ paths, out: opts.out });
    stopSignals();
    if (signalled) return { started: false, state: undefined };
    throw err;
  }

  if (opts.detach) {
    opts.out(summary(state, paths));
    return { started: true, state };
  }
  opts.out(`${summary(state, paths)}Ctrl-C stops the lab.\n`);
  // Pending promises and signal listeners do not keep node alive: a timer does, until a signal.
  const keepAlive = setInterval(() => {}, 1 << 30);
  await new Promise<void>((resolve) => {
    wake = resolve;
    if (signalled) resolve();
  });
  clearInterval(keepAlive);
  opts.out(`received ${signalled}: stopping the lab…\n`);
  await labDown({ paths, out: opts.out });
  stopSignals();
  return { started: true, state };
}

/**
 * `ready`: deployed and its orchestrator runs; `starting`: a `lab up` is still at it; `gone`:
 * what state.json describes is not running (its `lab up` died, or its hosts were stopped).
 */
export async function labCondition(state: LabState): Promise<'ready' | 'starting' | 'gone'> {
  if (state.phase === 'starting') return (await isAlive(state.upPid)) ? 'starting' : 'gone';
  try {
    const inv = await loadInventory(state.inventory);
    const host = inv.host(LAB_ORCHESTRATOR_HOST);
    if (!host) return 'gone';
    return orchestratorRuns(await remoteStatus(connect(host))) ? 'ready' : 'gone';
  } catch {
    return 'gone';
  }
}

/** Whether the orchestrator host's supervisor runs and holds the orchestrator unit. */
export function orchestratorRuns(st: HostStatus | null | undefined): boolean {
  return !!st && st.pid !== null && st.units.some((u) => u.kind === 'orchestrator');
}

function initialState(
  lab: LoadedLab,
  addresses: AddressPlan,
  hostsDir: string,
  paths: LabPaths,
  apps: Map<string, LabApp>,
): LabState {
  const urls: Record<string, string> = {};
  for (const vm of lab.spec.vms) {
    const run = vm.run;
    if (!run) continue;
    const address = addresses.vms.find((v) => v.name === vm.name)!.address;
    const expose = run.expose ?? apps.get(run.domain)?.spec.services[run.hostOwner]?.expose;
    if (!expose) continue;
    urls[exposeName(run)] = `http://${address}:${expose.port}/`;
    for (const [name, path] of Object.entries(expose.paths))
      urls[name] = `http://${address}:${expose.port}${path}`;
  }
  const o = addresses.orchestrator;
  const url = `https://${o.address}:${o.port}`;
  // The orchestrator serves the web console at / on the same origin as its API.
  urls.console = `${url}/`;
  return {
    version: 2,
    phase: 'starting',
    labFile: lab.file,
    upPid: process.pid,
    hostsDir,
    inventory: paths.inventory,
    apps: Object.fromEntries([...apps].map(([d, a]) => [d, a.file])),
    orchestrator: { url, ...o },
    processors: addresses.processors,
    vms: lab.spec.vms.map((vm) => ({
      name: vm.name,
      address: addresses.vms.find((v) => v.name === vm.name)!.address,
      processors: vm.processors,
      run: vm.run ? { hostOwner: vm.run.hostOwner, domain: vm.run.domain } : null,
    })),
    urls,
    updatedAt: new Date().toISOString(),
  };
}

/** `lab/admin-password` names the orchestrator's own 0600 file: one copy of the secret. */
async function linkAdminPassword(paths: LabPaths): Promise<void> {
  const target = join(labOrchestratorData(paths), 'admin-password');
  if ((await readlink(paths.adminPassword).catch(() => undefined)) === target) return;
  await rm(paths.adminPassword, { force: true });
  await symlink(target, paths.adminPassword);
}

async function writePrivate(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** What a user needs once the lab is up: where to point the CLI and a browser, where logs are. */
export function summary(state: LabState, paths: LabPaths): string {
  const lines = [
    '',
    `Orchestrator:  ${state.orchestrator.url}   (the CLI is logged in as admin)`,
    // Never the password itself: terminal scrollback, CI logs and screen shares keep stdout.
    `Admin login:   admin, password in ${paths.adminPassword} (mode 0600)`,
    `Host owners:   passwords in ${paths.secrets}`,
    `Inventory:     ${paths.inventory} (deploy more with --inventory and --app)`,
  ];
  const urls = Object.entries(state.urls);
  if (urls.length > 0) {
    lines.push('URLs:');
    for (const [name, url] of urls) lines.push(`  ${name.padEnd(12)} ${url}`);
  }
  lines.push(
    `Logs:          ${paths.hosts}/*/log/`,
    '`trellis lab status` shows it; `trellis lab down` stops it.',
    '',
  );
  return lines.join('\n');
}
