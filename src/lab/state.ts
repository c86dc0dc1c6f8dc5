import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trellisHome } from '../cli/config.js';
import type { InstallPaths } from '../deploy/manifest.js';

/**
 * The lab's files under $TRELLIS_HOME/lab, and state.json: what is running (pids, addresses,
 * urls) so that `lab status` and `lab down` — separate processes — can find it.
 */

export interface LabPaths {
  dir: string;
  state: string;
  logs: string;
  secrets: string;
  passwords: string;
  orchestratorData: string;
  log(name: string): string;
  processorState(name: string): string;
  vmState(name: string): string;
  envFile(vm: string): string;
  /** What `trellis deploy` installed on a VM (its directory stands for the VM's disk). */
  install(vm: string): InstallPaths;
  /** Names the directory that holds the VMs' `{datadir}`s (see src/deploy/data-dir.ts). */
  dataDirRecord: string;
  /** The supervisor's control socket: `trellis deploy` and `purge` ask it to start and stop VMs. */
  control: string;
}

export function labPaths(home = trellisHome()): LabPaths {
  const dir = join(home, 'lab');
  return {
    dir,
    state: join(dir, 'state.json'),
    logs: join(dir, 'logs'),
    secrets: join(dir, 'secrets.yaml'),
    passwords: join(dir, 'passwords'),
    orchestratorData: join(dir, 'orchestrator'),
    log: (name) => join(dir, 'logs', `${name}.log`),
    processorState: (name) => join(dir, 'processors', name),
    vmState: (name) => join(dir, 'vms', name),
    envFile: (vm) => join(dir, 'vms', vm, 'fabric.env'),
    install: (vm) => ({
      manifest: join(dir, 'vms', vm, 'deployment.json'),
      password: join(dir, 'vms', vm, 'password'),
    }),
    control: join(dir, 'control.sock'),
    dataDirRecord: join(dir, 'data-dir'),
  };
}

export type ChildKind = 'orchestrator' | 'processor' | 'agent' | 'workload';

export interface ChildState {
  /** Unique in the lab: `orchestrator`, `aws-p1`, `aws-11.agent`, `aws-11.workload`. */
  name: string;
  kind: ChildKind;
  /** Also the process group id: children lead their own groups. Null while (re)starting. */
  pid: number | null;
  restarts: number;
  log: string;
}

export interface LabState {
  version: 1;
  /** `starting` until every child is healthy; `lab up --detach` waits for `ready`. */
  phase: 'starting' | 'ready' | 'stopping';
  labFile: string;
  supervisor: { pid: number; log: string | null };
  orchestrator: { url: string; address: string; port: number };
  processors: { name: string; address: string; port: number }[];
  vms: { name: string; address: string; processors: string[]; hostOwner: string | null }[];
  urls: Record<string, string>;
  children: ChildState[];
  updatedAt: string;
}

export async function readState(paths: LabPaths): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(paths.state, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as LabState;
    return parsed.version === 1 ? parsed : undefined;
  } catch {
    // A torn file cannot happen (writes rename into place); a hand-edited one is treated as gone.
    return undefined;
  }
}

/** Written to a temporary file and renamed, so readers never see half a file. */
export async function writeState(paths: LabPaths, state: LabState): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  const tmp = `${paths.state}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2)}\n`, {
    mode: 0o600,
  });
  await chmod(tmp, 0o600);
  await rename(tmp, paths.state);
}

export async function removeState(paths: LabPaths): Promise<void> {
  await rm(paths.state, { force: true });
}

/**
 * Creates state.json only if there is none: two `lab up` racing each other must not both
 * think they own the lab. False when another state.json is already there.
 */
export async function claimState(paths: LabPaths, state: LabState): Promise<boolean> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(paths.state, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** Removes state.json if it still describes the lab supervised by `pid`, and no other. */
export async function releaseState(paths: LabPaths, pid: number): Promise<void> {
  if ((await readState(paths))?.supervisor.pid === pid) await removeState(paths);
}
