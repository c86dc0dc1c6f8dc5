import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiClient } from '../api-client/client.js';
import { loadFabricFile } from '../apply/index.js';
import { addSecrets, readSecrets } from '../apply/secrets.js';
import { writeConfig } from '../cli/config.js';
import { deploy, type LabTarget } from '../deploy/deploy.js';
import { removeDeployment } from '../deploy/manifest.js';
import { TrellisError } from '../errors.js';
import { tightenTree, usePrivateUmask } from '../node-runtime/private-files.js';
import { caFingerprint } from '../wire/fingerprint.js';
import { type AddressPlan, planAddresses } from './addresses.js';
import { labAdminPassword } from './admin-password.js';
import { type LabControl, serveLabControl } from './control.js';
import { checkLabAgainstFabric, type LoadedLab, loadLabFile } from './lab-file.js';
import { logTail } from './log-tail.js';
import { labCaFingerprint, labCaPem, labClient } from './orchestrator-client.js';
import { type LabCommands, labCommands, orchestratorUrl, type PlannedChild, planLab } from './plan.js';
import { isLabSupervisor } from './processes.js';
import {
  claimState,
  type LabPaths,
  type LabState,
  labPaths,
  readState,
  releaseState,
  writeState,
} from './state.js';
import { Supervisor } from './supervisor.js';
import { vmControl } from './vm-control.js';
import { waitUntil } from './wait.js';

/**
 * The process that supervises the lab: start the orchestrator, apply the fabric,
 * start processors, agents and workloads in that order (each one ready before the next), then
 * keep them running until a signal asks for a clean stop. The foreground `lab up` runs this
 * directly; `lab up --detach` runs it in a detached `lab supervise` process (see detach.ts).
 */

export interface SuperviseOptions {
  labFile: string;
  /** Raw progress text; lines end with '\n'. */
  out(text: string): void;
  paths?: LabPaths;
  /** Stand-ins for commands that may not exist (tests); default: bin/trellis.js subcommands. */
  commands?: LabCommands;
  /** Where this supervisor's own output goes, recorded for `lab status`; null: a terminal. */
  supervisorLog?: string | null;
  /** Called once every child is ready. */
  onReady?(state: LabState): void;
}

/** The lab file, checked against its fabric file, with its address plan. */
export async function loadLab(labFile: string): Promise<{ lab: LoadedLab; addresses: AddressPlan }> {
  const lab = await loadLabFile(labFile);
  const fabric = await loadFabricFile(lab.fabricFile);
  const mismatch = checkLabAgainstFabric(lab.spec, fabric.spec);
  if (mismatch.length > 0) throw lab.problemError(mismatch);
  const planned = planAddresses(lab.spec);
  if (!planned.ok) throw lab.problemError(planned.problems);
  return { lab, addresses: planned.plan };
}

/** Resolves after a clean stop (SIGINT, SIGTERM, SIGHUP); rejects if the lab cannot start. */
export async function superviseLab(opts: SuperviseOptions): Promise<void> {
  const paths = opts.paths ?? labPaths();
  const { lab, addresses } = await loadLab(opts.labFile);

  // Every file the lab and its processes create is private, whatever the shell's umask; what an
  // older run left is tightened. (The VMs' {datadir}s live elsewhere, 0711 on purpose.)
  usePrivateUmask();
  await makePrivateDir(paths.dir);
  await tightenTree(paths.dir);
  await makePrivateDir(paths.logs);
  await makePrivateDir(paths.passwords);
  // State directories hold keys: private, and there before the process that fills them starts.
  for (const p of lab.spec.processors) await makePrivateDir(paths.processorState(p.name));
  for (const vm of lab.spec.vms) await makePrivateDir(paths.vmState(vm.name));
  const adminPassword = await labAdminPassword(paths.dir);
  const passwordFile = (domain: string, user: string) => join(paths.passwords, `${domain}.${user}`);
  const commands = opts.commands ?? (await labCommands());
  const plan = planLab({
    lab,
    addresses,
    paths,
    commands,
    adminPassword,
    passwordFile,
  });

  const stamp = () => new Date().toISOString().slice(11, 19);
  const state: LabState = initialState(lab, addresses, opts.supervisorLog ?? null);
  let saving = Promise.resolve();
  const save = () => {
    state.children = supervisor.states();
    const snapshot = structuredClone(state);
    saving = saving.then(() => writeState(paths, snapshot)).catch(() => {});
    return saving;
  };
  const supervisor = new Supervisor({
    log: (l) => opts.out(`${stamp()} ${l}\n`),
    onChange: () => void save(),
  });

  // Installed before anything starts, so Ctrl-C during start-up still stops what did start.
  let stopped: () => void = () => {};
  const whenStopped = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    opts.out(`${stamp()} ${why}: stopping the lab…\n`);
    state.phase = 'stopping';
    await save();
    await control?.close();
    await supervisor.stop();
    await saving;
    await releaseState(paths, process.pid);
    opts.out(`${stamp()} the lab is stopped\n`);
    stopped();
  };
  const onSignal = (signal: NodeJS.Signals) => void stop(`received ${signal}`);
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);

  const start = async (child: PlannedChild, label: string) => {
    if (stopping) return;
    const t0 = Date.now();
    opts.out(`starting ${label}… `);
    await supervisor.start(child.spec);
    const name = child.spec.name;
    const result = await waitUntil(child.ready, {
      timeoutMs: child.timeoutMs,
      failed: () => stopping || supervisor.exits(name) > 0,
    });
    if (stopping) return;
    if (result !== 'ready') {
      opts.out('failed\n');
      const why =
        result === 'failed' ? 'exited while starting' : `was not ready after ${child.timeoutMs / 1000} s`;
      throw new TrellisError('TRELLIS_ERR_INTERNAL', `${label} ${why}${await logTail(child.spec.log)}`, {
        hint: `its log is ${child.spec.log}`,
      });
    }
    opts.out(`ok (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  };

  const vms: LabControl = vmControl({
    vms: addresses.vms.map((v) => v.name),
    paths,
    commands,
    supervisor,
    start,
    stopping: () => stopping,
    onHostOwner: async (vm, owner) => {
      const entry = state.vms.find((v) => v.name === vm);
      if (entry) entry.hostOwner = owner;
      await save();
    },
    log: (line) => opts.out(`${stamp()} ${line}\n`),
  });
  let control: { close(): Promise<void> } | undefined;
  let admin!: ApiClient;

  if (!(await claimState(paths, state))) {
    const other = await readState(paths);
    if (other && (await isLabSupervisor(other.supervisor.pid, paths.dir))) {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
      throw new TrellisError(
        'TRELLIS_ERR_CONFLICT',
        `another lab supervisor (pid ${other.supervisor.pid}) started at the same time`,
        { hint: '`trellis lab status` shows it; `trellis lab down` stops it' },
      );
    }
  }
  try {
    await save();
    const o = addresses.orchestrator;
    await start(plan.orchestrator, `orchestrator (${o.address}:${o.port})`);
    if (!stopping) admin = await applyFabric(state.orchestrator.url, adminPassword, lab, paths, opts.out);
    if (!stopping) await writePasswordFiles(lab, paths, passwordFile);
    for (const [i, p] of plan.processors.entries()) {
      const a = addresses.processors[i]!;
      await start(p, `processor ${a.name} (${a.address}:${a.port})`);
    }
    if (!stopping) control = await serveLabControl(paths.control, vms);
    // The lab file's `run` entries are the seed's deployment table: each is deployed the way
    // `trellis deploy` does it, through the same steps. A fresh lab starts from that table.
    for (const vm of lab.spec.vms) await removeDeployment(paths.install(vm.name));
    const target: LabTarget = {
      paths,
      lab,
      vmAddress: (vm) => addresses.vms.find((v) => v.name === vm)?.address,
      orchestratorUrl: state.orchestrator.url,
      caFingerprint: await labCaFingerprint(paths),
      api: await labClient(paths, state.orchestrator.url),
      admin,
      control: vms,
      stopping: () => stopping,
    };
    for (const vm of lab.spec.vms) {
      if (!vm.run || stopping) continue;
      opts.out(`deploying ${vm.run.hostOwner} on ${vm.name}…\n`);
      await deploy({ hostOwner: vm.run.hostOwner, vm: vm.name, domain: vm.run.domain }, target);
    }
  } catch (err) {
    // Failing because a signal is stopping the lab (the orchestrator went away mid-apply) is
    // not an error: the stop under way is what was asked for.
    const asked = stopping;
    await stop('start-up failed');
    await whenStopped;
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
    if (asked) return;
    throw err;
  }
  if (!stopping) {
    state.phase = 'ready';
    await save();
    opts.onReady?.(structuredClone(state));
  }
  await whenStopped;
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
}

function initialState(lab: LoadedLab, addresses: AddressPlan, supervisorLog: string | null): LabState {
  const urls: Record<string, string> = {};
  for (const vm of lab.spec.vms) {
    const expose = vm.run?.expose;
    const address = addresses.vms.find((v) => v.name === vm.name)!.address;
    if (!expose) continue;
    urls[expose.name] = `http://${address}:${expose.port}/`;
    for (const [name, path] of Object.entries(expose.paths))
      urls[name] = `http://${address}:${expose.port}${path}`;
  }
  // The orchestrator serves the web console at / on the same origin as its API.
  urls.console = `${orchestratorUrl(addresses)}/`;
  return {
    version: 1,
    phase: 'starting',
    labFile: lab.file,
    supervisor: { pid: process.pid, log: supervisorLog },
    orchestrator: { url: orchestratorUrl(addresses), ...addresses.orchestrator },
    processors: addresses.processors,
    vms: lab.spec.vms.map((vm) => ({
      name: vm.name,
      address: addresses.vms.find((v) => v.name === vm.name)!.address,
      processors: vm.processors,
      // Filled in as deployments start (see vmControl).
      hostOwner: null,
    })),
    urls,
    children: [],
    updatedAt: new Date().toISOString(),
  };
}

/** Logs the CLI in as the lab's admin and applies the fabric, keeping passwords in the lab's secrets file. */
async function applyFabric(
  url: string,
  adminPassword: string,
  lab: LoadedLab,
  paths: LabPaths,
  out: (text: string) => void,
): Promise<ApiClient> {
  const t0 = Date.now();
  out(`applying ${lab.spec.fabric}… `);
  const api = await labClient(paths, url);
  const { token, expiresAt } = await api.login('admin', adminPassword);
  // The CLI is left logged in and pinned to the lab's CA, as `trellis login --ca-file` would.
  const caPem = await labCaPem(paths);
  await writeConfig({
    orchestrator: url,
    token,
    username: 'admin',
    expiresAt,
    pins: { [url]: { fingerprint: caFingerprint(caPem), caPem } },
  });
  const fabric = await loadFabricFile(lab.fabricFile);
  const res = await api
    .withToken(token)
    .apply(fabric.spec, { prune: false, dryRun: false, passwords: await readSecrets(paths.secrets) });
  await addSecrets(paths.secrets, res.generatedPasswords);
  out(`ok, ${res.changes.length} change(s) (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  return api.withToken(token);
}

/** Processors and agents read their password from a 0600 file, never from argv or env. */
async function writePasswordFiles(
  lab: LoadedLab,
  paths: LabPaths,
  passwordFile: (domain: string, user: string) => string,
): Promise<void> {
  const secrets = await readSecrets(paths.secrets);
  // Host owners' passwords are installed with their deployment (src/deploy).
  const users = [lab.spec.switchOwner];
  for (const u of users) {
    const password = secrets[`${u.domain}/${u.name}`];
    if (password === undefined) {
      throw new TrellisError(
        'TRELLIS_ERR_NOT_FOUND',
        `no password for ${u.domain}/${u.name} in ${paths.secrets}`,
        {
          hint: `the user existed before the secrets file did; remove ${paths.dir} to start the lab afresh`,
        },
      );
    }
    const file = passwordFile(u.domain, u.name);
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    await chmod(file, 0o600);
  }
}

async function makePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}
