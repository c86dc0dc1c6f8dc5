import { type ChildProcess, type StdioOptions, spawn as spawnChild } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { inventoryYaml } from './rig-inventory.js';
import {
  buildTopology,
  type CmdResult,
  killAllIn,
  leftovers,
  netnsInode,
  RIG_BASTION_OCTET,
  RIG_FIRST_HOST,
  RIG_MAX_HOSTS,
  RIG_NET,
  type RunNames,
  removeCrashedRuns,
  rootRigAddresses,
  run,
  runNames,
} from './rig-netns.js';
import { makeKey, prepareSshd, SSHD, type SshdFiles, sshdArgv, sshOptions, waitForSsh } from './rig-sshd.js';

/**
 * The multi-host test rig (issue 10): several "hosts" on one machine, each a network namespace
 * with its own address on a private bridge and a real sshd, plus a bastion namespace without
 * sshd where the controller (the CLI, ansible, test probes) runs. Namespaces isolate only the
 * network: the filesystem is shared, hence a separate `root` directory per host.
 * See docs/testing.md, "Multi-host rig".
 */

export interface RigHost {
  /** Inventory hostname, e.g. 'aws-p1', 'gcp-11'. */
  name: string;
  /** 10.203.0.N */
  address: string;
  /** Namespace name, unique per run: `trl-<pid>-<hex4>-h-<name>` (`…-bastion` for the bastion). */
  netns: string;
  /** This host's trellis_root, `<rig.dir>/hosts/<name>/opt/trellis`, created empty, 0755. */
  root: string;
}

export interface RigExecOptions {
  env?: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

export interface Rig {
  /** Temp dir of this run (keys, known_hosts, sshd configs and logs, inventories). */
  dir: string;
  /** The sshd hosts, in the order asked. */
  hosts: RigHost[];
  /** On the same bridge WITHOUT sshd: where the controller runs. */
  bastion: RigHost;
  /** Private key (ed25519, 0600) every host's sshd accepts for root. */
  sshKey: string;
  /** known_hosts with every host's per-run host key, keyed by its address. */
  knownHosts: string;
  /** A host by inventory name (or 'bastion'); throws naming the hosts when unknown. */
  host(name: string): RigHost;
  /**
   * An Ansible YAML inventory of the hosts (ansible_host, ansible_user=root,
   * ansible_ssh_private_key_file, ansible_ssh_common_args, trellis_root, …) with the groups
   * given; extraHostVars are merged over a host's vars. Returns the file path.
   */
  writeInventory(
    groups: Record<string, string[]>,
    extraHostVars?: Record<string, Record<string, unknown>>,
  ): Promise<string>;
  /**
   * Runs argv inside a host's (or the bastion's) namespace: `ip netns exec NS argv…`, env added
   * to process.env. Rejects (killing it) after timeoutMs, default 120 s; a non-zero exit resolves.
   */
  exec(host: RigHost | string, argv: string[], opts?: RigExecOptions): Promise<CmdResult>;
  /**
   * spawn() variant for long-running children (caller owns it; close() kills leftovers anyway).
   * stdio defaults to ['ignore', 'pipe', 'pipe']: read or destroy the pipes, or a chatty child blocks.
   */
  spawn(
    host: RigHost | string,
    argv: string[],
    opts?: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions },
  ): ChildProcess;
  /** ssh/scp/sftp options of every rig connection: `-F /dev/null`, the key only, the rig's known_hosts only, BatchMode. */
  sshOptions: string[];
  /** The argv that, run in the bastion, logs into `host` as root the way the rig's tools do. */
  sshArgv(host: RigHost | string, remoteCommand: string): string[];
  /** `ssh root@host remoteCommand` from the bastion (BatchMode, pinned host key). */
  ssh(host: RigHost | string, remoteCommand: string, opts?: RigExecOptions): Promise<CmdResult>;
  /**
   * Kills every process in every rig namespace (sshd and anything deployed there), deletes
   * the namespaces, then checks nothing is left and throws naming what was. Removes dir only
   * when asked (keep it to read the sshd logs of a failed run). Safe to call twice.
   */
  close(opts?: { removeDir?: boolean }): Promise<void>;
}

/** One argument for a remote (POSIX) shell, e.g. in `rig.ssh(h, `node -e ${shellQuote(code)}`)`. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** exec()'s default bound: long enough for a deploy over SSH on a loaded CI machine. */
const EXEC_TIMEOUT_MS = 120_000;

const HOSTNAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

async function works(file: string, args: string[]): Promise<boolean> {
  try {
    return (await run(file, args, { timeoutMs: 10_000 })).code === 0;
  } catch {
    return false;
  }
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, tool)));
}

let availability: Promise<string | undefined> | undefined;

/** undefined when this machine can make namespaces and run sshd; else what to install / why. */
export function rigUnavailable(): Promise<string | undefined> {
  availability ??= probe();
  return availability;
}

async function probe(): Promise<string | undefined> {
  if (process.platform !== 'linux') return 'the multi-host rig needs Linux network namespaces';
  if (process.getuid?.() !== 0) {
    return 'the multi-host rig needs root to make network namespaces: run the tests as root (bash .ci/run does)';
  }
  if (!(await works('ip', ['-V']))) return 'the multi-host rig needs `ip`: apt-get install iproute2';
  if (!existsSync(SSHD))
    return `the multi-host rig needs ${SSHD}: apt-get install openssh-server (bash .ci/run does)`;
  if (!onPath('ssh') || !onPath('ssh-keygen')) {
    return 'the multi-host rig needs ssh and ssh-keygen: apt-get install openssh-client';
  }
  // A throwaway namespace named in the rig's scheme, so a crash here is cleaned up next run.
  const names = runNames(process.pid, randomBytes(2).toString('hex'));
  const ns = `${names.prefix}probe`;
  const add = await run('ip', ['netns', 'add', ns]);
  if (add.code !== 0) {
    return `cannot make network namespaces (\`ip netns add\`: ${add.stderr.trim()}); a container needs CAP_SYS_ADMIN and CAP_NET_ADMIN (e.g. --privileged)`;
  }
  try {
    const veth = await run('ip', [
      '-n',
      ns,
      'link',
      'add',
      'name',
      'probe0',
      'type',
      'veth',
      'peer',
      'name',
      'probe1',
    ]);
    if (veth.code !== 0) return `cannot make veth pairs in a namespace: ${veth.stderr.trim()}`;
    const br = await run('ip', ['-n', ns, 'link', 'add', 'name', 'br0', 'type', 'bridge']);
    if (br.code !== 0) return `cannot make a bridge in a namespace: ${br.stderr.trim()}`;
  } finally {
    await run('ip', ['netns', 'del', ns]);
  }
  return undefined;
}

/** undefined when `ansible` and `ansible-playbook` run; else what to install. */
export async function ansibleUnavailable(): Promise<string | undefined> {
  for (const tool of ['ansible', 'ansible-playbook']) {
    if (!(await works(tool, ['--version'])))
      return `${tool} is missing: apt-get install ansible (bash .ci/run does)`;
  }
  return undefined;
}

export async function startRig(opts: { hosts: string[]; dir?: string }): Promise<Rig> {
  const why = await rigUnavailable();
  if (why) throw new Error(why);
  const seen = new Set<string>();
  for (const h of opts.hosts) {
    if (!HOSTNAME_RE.test(h)) throw new Error(`rig host name "${h}": use lowercase letters, digits and "-"`);
    if (h === 'bastion') throw new Error('"bastion" is the rig\'s own controller namespace, not a host name');
    if (seen.has(h)) throw new Error(`rig host "${h}" is named twice`);
    seen.add(h);
  }
  if (opts.hosts.length === 0 || opts.hosts.length > RIG_MAX_HOSTS) {
    throw new Error(`a rig has 1 to ${RIG_MAX_HOSTS} hosts, not ${opts.hosts.length}`);
  }
  await removeCrashedRuns();

  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'trellis-rig-')));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const names = runNames(process.pid, randomBytes(2).toString('hex'));
  const mkHost = async (name: string, octet: number, netns: string): Promise<RigHost> => {
    const root = join(dir, 'hosts', name, 'opt', 'trellis');
    await mkdir(root, { recursive: true, mode: 0o755 });
    // A real host's /opt/trellis is reachable by its system users (a store that drops root to
    // `redis` or `postgres` must reach its data directory): traversable down to each root, never
    // listable above it (the rig's key files stay private).
    await chmod(dir, 0o711);
    for (const d of [join(dir, 'hosts'), join(dir, 'hosts', name), join(dir, 'hosts', name, 'opt'), root])
      await chmod(d, d === root ? 0o755 : 0o711);
    return { name, address: `${RIG_NET}.${octet}`, netns, root };
  };
  const bastion = await mkHost('bastion', RIG_BASTION_OCTET, names.bastionNs);
  const hosts: RigHost[] = [];
  for (const [i, name] of opts.hosts.entries())
    hosts.push(await mkHost(name, RIG_FIRST_HOST + i, names.hostNs(name)));

  const rig = new RigImpl(dir, names, hosts, bastion, await rootRigAddresses());
  try {
    await rig.boot();
  } catch (err) {
    await rig.close().catch((closeErr: Error) => {
      (err as Error).message += `\n(and the teardown after it failed: ${closeErr.message})`;
    });
    throw err;
  }
  return rig;
}

class RigImpl implements Rig {
  readonly sshKey: string;
  readonly knownHosts: string;
  readonly sshOptions: string[];
  private readonly inodes = new Set<number>();
  private readonly children: ChildProcess[] = [];
  private inventories = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly names: RunNames,
    readonly hosts: RigHost[],
    readonly bastion: RigHost,
    private readonly rootAddressesBefore: string[],
  ) {
    this.sshKey = join(dir, 'id_ed25519');
    this.knownHosts = join(dir, 'known_hosts');
    this.sshOptions = sshOptions(this.sshKey, this.knownHosts);
  }

  async boot(): Promise<void> {
    const all = [this.bastion, ...this.hosts];
    try {
      await buildTopology(this.names, all);
    } finally {
      // Whatever was made gets torn down by close(), even if building stopped half-way.
      for (const ns of [this.names.switchNs, ...all.map((h) => h.netns)]) {
        const ino = await netnsInode(ns);
        if (ino !== undefined) this.inodes.add(ino);
      }
    }
    const authorizedKeys = join(this.dir, 'authorized_keys');
    await writeFile(authorizedKeys, `${await makeKey(this.sshKey, `trellis-rig-${this.names.runId}`)}\n`, {
      mode: 0o600,
    });
    const sshd = await Promise.all(
      this.hosts.map((h) => prepareSshd(join(this.dir, 'hosts', h.name, 'sshd'), h.address, authorizedKeys)),
    );
    await writeFile(
      this.knownHosts,
      this.hosts.map((h, i) => `${h.address} ${sshd[i]!.publicKey}\n`).join(''),
      { mode: 0o600 },
    );
    await Promise.all(this.hosts.map((h, i) => this.startSshd(h, sshd[i]!)));
  }

  private async startSshd(h: RigHost, files: SshdFiles): Promise<void> {
    const child = this.spawn(h, sshdArgv(files), { stdio: 'ignore' });
    let exited: string | undefined;
    child.on('exit', (code, sig) => {
      exited = `sshd of ${h.name} exited (${sig ?? code})`;
    });
    const version = await waitForSsh(
      `${h.name} (${h.address})`,
      async () => {
        if (exited) return { code: 255, stdout: '', stderr: exited };
        return this.ssh(h, 'node --version', { timeoutMs: 10_000 });
      },
      files.log,
    );
    if (!/^v\d+\./.test(version)) throw new Error(`node --version on ${h.name} printed "${version}"`);
  }

  host(name: string): RigHost {
    if (name === 'bastion') return this.bastion;
    const h = this.hosts.find((x) => x.name === name || x.netns === name);
    if (!h)
      throw new Error(`no rig host "${name}" (hosts: ${this.hosts.map((x) => x.name).join(', ')}, bastion)`);
    return h;
  }

  private ns(host: RigHost | string): string {
    return (typeof host === 'string' ? this.host(host) : host).netns;
  }

  async writeInventory(
    groups: Record<string, string[]>,
    extraHostVars?: Record<string, Record<string, unknown>>,
  ): Promise<string> {
    const controlPathDir = join(this.dir, 'ansible-cp');
    await mkdir(controlPathDir, { recursive: true, mode: 0o700 });
    const text = inventoryYaml(
      this.hosts,
      { sshKey: this.sshKey, knownHosts: this.knownHosts, controlPathDir },
      groups,
      extraHostVars,
    );
    this.inventories += 1;
    const file = join(
      this.dir,
      this.inventories === 1 ? 'inventory.yaml' : `inventory-${this.inventories}.yaml`,
    );
    await writeFile(file, text, { mode: 0o600 });
    return file;
  }

  exec(host: RigHost | string, argv: string[], opts: RigExecOptions = {}): Promise<CmdResult> {
    return run('ip', ['netns', 'exec', this.ns(host), ...argv], {
      env: { ...process.env, ...opts.env },
      input: opts.input,
      timeoutMs: opts.timeoutMs ?? EXEC_TIMEOUT_MS,
    });
  }

  spawn(
    host: RigHost | string,
    argv: string[],
    opts: { env?: NodeJS.ProcessEnv; stdio?: StdioOptions } = {},
  ): ChildProcess {
    // `ip netns exec` execs argv after joining the namespace: the child's pid is argv's.
    const child = spawnChild('ip', ['netns', 'exec', this.ns(host), ...argv], {
      env: { ...process.env, ...opts.env },
      stdio: opts.stdio ?? ['ignore', 'pipe', 'pipe'],
    });
    this.children.push(child);
    return child;
  }

  sshArgv(host: RigHost | string, remoteCommand: string): string[] {
    const h = typeof host === 'string' ? this.host(host) : host;
    return ['ssh', ...this.sshOptions, `root@${h.address}`, remoteCommand];
  }

  ssh(host: RigHost | string, remoteCommand: string, opts?: RigExecOptions): Promise<CmdResult> {
    return this.exec(this.bastion, this.sshArgv(host, remoteCommand), opts);
  }

  async close(opts: { removeDir?: boolean } = {}): Promise<void> {
    if (this.closed) {
      if (opts.removeDir) await rm(this.dir, { recursive: true, force: true });
      return;
    }
    this.closed = true;
    const stuck = await killAllIn(this.inodes);
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    const problems: string[] = stuck.map((p) => `process ${p} survived SIGKILL`);
    for (const ns of [...this.hosts.map((h) => h.netns), this.bastion.netns, this.names.switchNs]) {
      const r = await run('ip', ['netns', 'del', ns]);
      if (r.code !== 0 && !/No such file/.test(r.stderr))
        problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    problems.push(...(await leftovers(this.names, this.inodes, this.rootAddressesBefore)));
    if (opts.removeDir) await rm(this.dir, { recursive: true, force: true });
    if (problems.length > 0) {
      throw new Error(
        `the rig ${this.names.runId} left things behind:\n  ${[...new Set(problems)].join('\n  ')}`,
      );
    }
  }
}
