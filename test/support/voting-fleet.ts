import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from './cli.js';
import { until } from './wait.js';

/**
 * The six Voting App services as the lab runs them: compiled modules started with `node`,
 * configured only by environment variables, logs to files (shown when something fails).
 */
export const SERVICE_DIR = join(REPO_ROOT, 'examples', 'dist', 'voting-app', 'src', 'services');

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface Proc {
  name: string;
  /** The module under SERVICE_DIR, e.g. `voting-svc`. */
  service: string;
  env: Record<string, string>;
  child: ChildProcess;
  log: string;
  exit: Promise<Exit>;
}

export interface FleetOptions {
  /** mkdtemp prefix of the directory for the logs (default `voting-app-e2e-`). */
  prefix?: string;
  /**
   * Each process in a process group of its own, signalled as a whole (`kill -9` of a store
   * then takes its redis-server or postgres along), as the lab's supervisor does.
   */
  groups?: boolean;
}

export class Fleet {
  /** The latest process of each name, in the order the names were first started. */
  readonly procs: Proc[] = [];
  /** How many times each name was started (restarts included). */
  readonly starts = new Map<string, number>();
  /** Every process group started (with `groups`), restarted ones included. */
  readonly groups = new Set<number>();

  private constructor(
    readonly dir: string,
    private readonly detached: boolean,
  ) {}

  static async create(opts: FleetOptions = {}): Promise<Fleet> {
    const module = join(SERVICE_DIR, 'http-proxy.js');
    if (!existsSync(module))
      throw new Error(`${module} is missing: run \`npm run build\` first (npm test does)`);
    return new Fleet(await mkdtemp(join(tmpdir(), opts.prefix ?? 'voting-app-e2e-')), opts.groups ?? false);
  }

  log(name: string): string {
    return join(this.dir, `${name}.log`);
  }

  get(name: string): Proc {
    const p = this.procs.find((x) => x.name === name);
    if (!p) throw new Error(`no process named ${name}`);
    return p;
  }

  /** Starts `service` as `name`; a name started before is replaced, its log appended to. */
  async start(name: string, service: string, env: Record<string, string>): Promise<Proc> {
    const log = this.log(name);
    const out = await open(log, 'a');
    // TRELLIS_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", as for TestFabric's processes.
    const nodeArgs = process.env.TRELLIS_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, join(SERVICE_DIR, `${service}.js`)], {
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', out.fd, out.fd],
      detached: this.detached,
    });
    await out.close();
    if (this.detached && child.pid !== undefined) this.groups.add(child.pid);
    this.starts.set(name, (this.starts.get(name) ?? 0) + 1);
    const exit = new Promise<Exit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const p = { name, service, env, child, log, exit };
    const i = this.procs.findIndex((x) => x.name === name);
    if (i >= 0) this.procs[i] = p;
    else this.procs.push(p);
    return p;
  }

  /** Starts `name` again: the same service with the same environment. */
  restart(name: string): Promise<Proc> {
    const p = this.get(name);
    return this.start(name, p.service, p.env);
  }

  /** Waits for GET url to answer 200, failing early (with the log) if the process died. */
  async ready(p: Proc, url: string, ms = 40_000): Promise<void> {
    await until(
      `${p.name} at ${url}`,
      async () => {
        if (p.child.exitCode !== null)
          throw new Error(`${p.name} exited with ${p.child.exitCode}:\n${await this.tail(p)}`);
        const r = await fetch(url).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      ms,
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}\n--- ${p.name} log ---\n${await this.tail(p)}`);
    });
  }

  /**
   * Starts `name` (or, without `service` and `env`, starts it again as before) and waits for
   * `readyz` to answer 200, starting it again if it exits first (≤ 5 tries), as a supervisor does.
   */
  async startReady(
    name: string,
    readyz: string,
    spec?: { service: string; env: Record<string, string> },
    ms = 60_000,
  ): Promise<void> {
    const deadline = Date.now() + ms;
    const { service, env } = spec ?? this.get(name);
    for (let attempt = 1; ; attempt++) {
      const p = await this.start(name, service, env);
      const ok = await until(
        `${name} at ${readyz}`,
        async () => {
          if (p.child.exitCode !== null || p.child.signalCode !== null) return false;
          const r = await fetch(readyz, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
          return r?.status === 200 ? true : undefined;
        },
        Math.max(1_000, deadline - Date.now()),
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}\n--- ${name} log ---\n${await this.tail(p, 30)}`);
      });
      if (ok) return;
      // It exited before it was ready (e.g. the old postgres's backends still held its shared
      // memory): a supervisor starts it again.
      if (attempt >= 5 || Date.now() > deadline)
        throw new Error(`${name} kept exiting before it was ready:\n${await this.tail(p, 30)}`);
      await sleep(500);
    }
  }

  /** `signal` to the process (its whole group, with `groups`). */
  signal(p: Proc, signal: NodeJS.Signals): void {
    if (this.detached) signalGroup(p.child.pid!, signal);
    else p.child.kill(signal);
  }

  /** kill -9 of `name` (its whole group, with `groups`); resolves when it is gone. */
  async kill9(name: string): Promise<void> {
    const p = this.get(name);
    this.signal(p, 'SIGKILL');
    await p.exit;
  }

  async tail(p: Proc, lines = 40): Promise<string> {
    const text = await readFile(p.log, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }

  /** SIGTERM to all, newest first; resolves to how each one exited. */
  async stopAll(): Promise<Record<string, Exit>> {
    const out: Record<string, Exit> = {};
    for (const p of [...this.procs].reverse()) {
      if (p.child.exitCode === null && p.child.signalCode === null) this.signal(p, 'SIGTERM');
      const timer = setTimeout(() => this.signal(p, 'SIGKILL'), 15_000);
      out[p.name] = await p.exit;
      clearTimeout(timer);
    }
    return out;
  }

  /**
   * With `groups`: SIGTERM to every group at once, SIGKILL to every group ever started after
   * 10 s; throws if any group is still alive then.
   */
  async stopGroups(): Promise<void> {
    for (const p of this.procs) signalGroup(p.child.pid!, 'SIGTERM');
    const deadline = Date.now() + 10_000;
    while ([...this.groups].some(groupAlive) && Date.now() < deadline) await sleep(100);
    for (const g of this.groups) signalGroup(g, 'SIGKILL');
    await sleep(200);
    const left = [...this.groups].filter(groupAlive);
    if (left.length > 0) throw new Error(`process groups still alive after SIGKILL: ${left.join(', ')}`);
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: nothing left in the group.
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}
