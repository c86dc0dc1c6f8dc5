import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trellisHome } from '../home/config.js';
import { hostLayout } from '../host/layout.js';
import { LAB_ORCHESTRATOR_HOST } from './lab-file.js';

/**
 * The lab's files under $TRELLIS_HOME/lab (0700, files 0600), and state.json: what `lab up`
 * deployed (its inventory, its apps, addresses, urls) so that `lab status`, `lab down`,
 * `deploy` and `purge` — separate processes — find it. What runs is each lab host's business:
 * its units, under its trellis_root in the hosts directory (see host-roots.ts).
 */

export interface LabPaths {
  dir: string;
  state: string;
  /** Passwords `apply` generated (host owners', the switch owner's). */
  secrets: string;
  /** The Ansible inventory of the lab's hosts (all `ansible_connection: local`). */
  inventory: string;
  /** Apps synthesised from a lab file's inline `run` entries, one per domain. */
  app(domain: string): string;
  /** A link to the hosts directory: `hosts/<name>/` is each lab host's trellis_root. */
  hosts: string;
  /** A link to the orchestrator's admin-password (0600, in its data directory). */
  adminPassword: string;
  /** Names the directory that holds the lab hosts' roots (see host-roots.ts). */
  dataDirRecord: string;
}

export function labPaths(home = trellisHome()): LabPaths {
  const dir = join(home, 'lab');
  return {
    dir,
    state: join(dir, 'state.json'),
    secrets: join(dir, 'secrets.yaml'),
    inventory: join(dir, 'inventory.yaml'),
    app: (domain) => join(dir, 'apps', `${domain}.yaml`),
    hosts: join(dir, 'hosts'),
    adminPassword: join(dir, 'admin-password'),
    dataDirRecord: join(dir, 'data-dir'),
  };
}

/** The orchestrator's data directory, through the hosts link. */
export function labOrchestratorData(paths: LabPaths): string {
  return hostLayout(join(paths.hosts, LAB_ORCHESTRATOR_HOST)).state('orchestrator');
}

export interface LabState {
  version: 2;
  /** `starting` until every deploy is done; `ready` after. */
  phase: 'starting' | 'ready';
  labFile: string;
  /** The `lab up` that wrote this (a foreground one runs until Ctrl-C). */
  upPid: number;
  /** Where the hosts' roots are (the real directory the hosts link points at). */
  hostsDir: string;
  inventory: string;
  /** By domain: the app file the lab deploys from. */
  apps: Record<string, string>;
  orchestrator: { url: string; address: string; port: number };
  processors: { name: string; address: string; port: number }[];
  vms: {
    name: string;
    address: string;
    processors: string[];
    run: { hostOwner: string; domain: string } | null;
  }[];
  urls: Record<string, string>;
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
    return parsed.version === 2 ? parsed : undefined;
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
