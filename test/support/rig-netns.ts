import { execFile } from 'node:child_process';
import { readdir, readlink, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The rig's network: isolated Linux network namespaces joined by a bridge that lives in a
 * namespace of its own. Nothing is ever created in the root namespace (veth pairs are made
 * inside the switch namespace with their peer born directly in the host's), so no packet of
 * the rig can reach a real interface: no forwarding, no NAT, no default route.
 */

/** The private /24 the rig uses, only ever inside its namespaces. */
export const RIG_NET = '10.203.0';
export const RIG_PREFIX_LEN = 24;
/** Where the bastion (the controller) sits; hosts get RIG_FIRST_HOST, RIG_FIRST_HOST+1, … */
export const RIG_BASTION_OCTET = 2;
export const RIG_FIRST_HOST = 10;
export const RIG_MAX_HOSTS = 250 - RIG_FIRST_HOST;

/**
 * A run is named `<pid>-<hex4>`: the pid of the process that made it, so a later run can tell
 * a crashed run's leftovers (owner dead) from a live one's (owner running), and 4 random hex
 * digits so one process can make several rigs. Namespace names: `trl-<pid>-<hex4>-<role>`.
 */
export const NETNS_RE = /^trl-(\d+)-([0-9a-f]{4})-([a-z0-9][a-z0-9-]*)$/;

export interface RunNames {
  runId: string;
  /** Prefix of every namespace of this run: `trl-<pid>-<hex4>-`. */
  prefix: string;
  switchNs: string;
  bastionNs: string;
  hostNs(name: string): string;
  /** Switch-side veth names carry the run's hex, ≤ 15 chars (IFNAMSIZ): `trl<hex4>s<i>`. */
  switchPort(i: number): string;
  /** What every interface name of this run starts with (for the root-namespace leak check). */
  ifPrefix: string;
}

export function runNames(pid: number, hex4: string): RunNames {
  const prefix = `trl-${pid}-${hex4}-`;
  return {
    runId: `${pid}-${hex4}`,
    prefix,
    switchNs: `${prefix}switch`,
    bastionNs: `${prefix}bastion`,
    hostNs: (name) => `${prefix}h-${name}`,
    switchPort: (i) => `trl${hex4}s${i}`,
    ifPrefix: `trl${hex4}`,
  };
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion without a shell; never rejects for a non-zero exit. */
export function run(
  file: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<CmdResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { env: opts.env, timeout: opts.timeoutMs ?? 30_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
        if (e && typeof e.code === 'string') return reject(e); // ENOENT, EACCES: could not start
        if (e?.killed) {
          return reject(
            new Error(
              `${[file, ...args].join(' ')} timed out after ${opts.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
            ),
          );
        }
        resolve({ code: e ? ((e.code as number | undefined) ?? 1) : 0, stdout, stderr });
      },
    );
    // A command that exits without reading its stdin must not crash the caller with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
  });
}

/** `ip …`, throwing with what ip said when it fails. */
export async function ip(args: string[], input?: string): Promise<string> {
  const r = await run('ip', args, { input });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

export async function listNetns(): Promise<string[]> {
  // `ip netns list` prints "name (id: N)" for namespaces that have an id.
  const out = await ip(['netns', 'list']);
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n !== '');
}

/** The nsfs inode of a named namespace: what /proc/PID/ns/net of its processes points at. */
export async function netnsInode(ns: string): Promise<number | undefined> {
  try {
    return (await stat(`/run/netns/${ns}`)).ino;
  } catch {
    return undefined;
  }
}

/** Pids whose network namespace is one of `inodes` (Linux /proc; zombies have no ns link). */
export async function pidsInNetns(inodes: Set<number>): Promise<number[]> {
  const pids: number[] = [];
  if (inodes.size === 0) return pids;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const link = await readlink(`/proc/${entry}/ns/net`);
      const m = /^net:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(Number(m[1]))) pids.push(Number(entry));
    } catch {
      // exited while we looked, or a kernel thread
    }
  }
  return pids;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Ends every process in the given namespaces: SIGTERM, a bounded wait, then SIGKILL and
 * another bounded wait. Returns what is still alive (empty when all went).
 */
export async function killAllIn(inodes: Set<number>): Promise<number[]> {
  let pids = await pidsInNetns(inodes);
  for (const p of pids) signal(p, 'SIGTERM');
  for (let i = 0; i < 40 && pids.length > 0; i++) {
    await sleep(50);
    pids = await pidsInNetns(inodes);
  }
  for (let round = 0; round < 40 && pids.length > 0; round++) {
    for (const p of pids) signal(p, 'SIGKILL');
    await sleep(50);
    pids = await pidsInNetns(inodes);
  }
  return pids;
}

export function ownerAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes the namespaces of crashed earlier runs: only names matching NETNS_RE (the rig's own
 * scheme) whose owner pid is dead. A live owner's namespaces are never touched, even when the
 * pid was reused by an unrelated process (then they stay; the safe side). Returns the removed.
 */
export async function removeCrashedRuns(): Promise<string[]> {
  const stale = (await listNetns()).filter((n) => {
    const m = NETNS_RE.exec(n);
    return m !== null && !ownerAlive(Number(m[1]));
  });
  if (stale.length === 0) return [];
  const inodes = new Set<number>();
  for (const ns of stale) {
    const ino = await netnsInode(ns);
    if (ino !== undefined) inodes.add(ino);
  }
  await killAllIn(inodes);
  for (const ns of stale) await run('ip', ['netns', 'del', ns]);
  return stale;
}

export interface TopologyHost {
  netns: string;
  address: string;
}

/**
 * Builds the switch and one namespace per host: `lo` up everywhere, a veth from each host's
 * `eth0` to a port of the switch's bridge `br0`, the host's address on its eth0, IPv4
 * forwarding off. The bridge has no address: the switch namespace is not a host.
 */
export async function buildTopology(names: RunNames, hosts: TopologyHost[]): Promise<void> {
  for (const ns of [names.switchNs, ...hosts.map((h) => h.netns)]) await ip(['netns', 'add', ns]);
  const sw: string[] = ['link set lo up', 'link add name br0 type bridge', 'link set br0 up'];
  hosts.forEach((h, i) => {
    const port = names.switchPort(i);
    sw.push(`link add name ${port} type veth peer name eth0 netns ${h.netns}`);
    sw.push(`link set ${port} master br0`, `link set ${port} up`);
  });
  await ip(['-n', names.switchNs, '-batch', '-'], `${sw.join('\n')}\n`);
  await Promise.all(
    [names.switchNs, ...hosts.map((h) => h.netns)].map(async (ns) => {
      // /proc/sys/net is the namespace's own; written directly, no sysctl binary (it is in sbin).
      const r = await run('ip', ['netns', 'exec', ns, 'sh', '-c', 'echo 0 > /proc/sys/net/ipv4/ip_forward']);
      if (r.code !== 0) throw new Error(`cannot turn forwarding off in ${ns}: ${r.stderr.trim()}`);
    }),
  );
  await Promise.all(
    hosts.map((h) =>
      ip(
        ['-n', h.netns, '-batch', '-'],
        `link set lo up\naddr add ${h.address}/${RIG_PREFIX_LEN} dev eth0\nlink set eth0 up\n`,
      ),
    ),
  );
}

/**
 * What the run left behind: namespaces of its prefix, interfaces in the root namespace named
 * with its prefix or holding a rig address, processes still in its namespaces. Empty = clean.
 */
/** Root-namespace IPv4 address lines in the rig's /24 (normally none; see `leftovers`). */
export async function rootRigAddresses(): Promise<string[]> {
  const addrs = await ip(['-o', '-4', 'addr', 'show']);
  return addrs
    .split('\n')
    .filter((l) => l.includes(` ${RIG_NET}.`))
    .map((l) => l.trim());
}

/**
 * `before`: rootRigAddresses() when the run started, so a machine that itself uses the /24
 * (the rig does not care: it never touches the root namespace) does not fail every close().
 */
export async function leftovers(
  names: RunNames,
  inodes: Set<number>,
  before: string[] = [],
): Promise<string[]> {
  const left: string[] = [];
  for (const ns of await listNetns()) if (ns.startsWith(names.prefix)) left.push(`namespace ${ns}`);
  const links = await ip(['-o', 'link', 'show']);
  for (const line of links.split('\n')) {
    const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
    if (name?.startsWith(names.ifPrefix)) left.push(`interface ${name} in the root namespace`);
  }
  for (const line of await rootRigAddresses()) {
    if (!before.includes(line)) left.push(`rig address in the root namespace: ${line}`);
  }
  for (const pid of await pidsInNetns(inodes)) left.push(`process ${pid} still in a rig namespace`);
  return left;
}
