import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { STOP_GRACE_MS, stopGroup } from './processes.js';
import type { UnitKind } from './unit.js';

export type ChildKind = UnitKind;

/** What the supervisor reports of one child. */
export interface ChildState {
  name: string;
  kind: ChildKind;
  /** Also the process group id: children lead their own groups. Null while (re)starting. */
  pid: number | null;
  restarts: number;
  log: string;
}

/** What to run for one supervised process (a host's unit; see host/supervise.ts). */
export interface ChildSpec {
  name: string;
  kind: ChildKind;
  /** Stop order: higher stages stop first (workloads before agents before processors…). */
  stage: number;
  command: string;
  args: string[];
  /** Computed at every (re)start, so a restarted workload sees its agent's current env file. */
  env(): Promise<NodeJS.ProcessEnv>;
  cwd?: string;
  /** stdout and stderr are appended here. */
  log: string;
}

export interface SupervisorOptions {
  /** One line per event worth telling the operator (restarts, stops). */
  log(line: string): void;
  /** Called whenever a pid changes, so state.json can follow. */
  onChange?(): void;
  backoff?: { initialMs: number; maxMs: number };
  graceMs?: number;
}

interface Child {
  spec: ChildSpec;
  proc: ChildProcess | null;
  restarts: number;
  exits: number;
  backoffMs: number;
  startedAt: number;
  timer: NodeJS.Timeout | null;
  /** Set by remove(): its exit is expected, not a crash to restart. */
  removed: boolean;
}

/** A child that ran this long before dying was healthy; its next crash starts the backoff over. */
const HEALTHY_RUN_MS = 10_000;

/**
 * Starts lab processes and keeps them running: a child that dies is restarted after a backoff
 * (0.5 s doubling to 5 s), and `stop()` ends every child's whole process group (SIGTERM, then
 * SIGKILL after 5 s) so nothing is left behind.
 */
export class Supervisor {
  private readonly children = new Map<string, Child>();
  private stopping = false;
  /** Children being removed: stop() waits for them too (they are no longer in the map). */
  private readonly removing = new Set<Promise<void>>();
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly graceMs: number;

  constructor(private readonly opts: SupervisorOptions) {
    this.backoff = opts.backoff ?? { initialMs: 500, maxMs: 5_000 };
    this.graceMs = opts.graceMs ?? STOP_GRACE_MS;
  }

  async start(spec: ChildSpec): Promise<void> {
    if (this.children.has(spec.name)) throw new Error(`child "${spec.name}" already started`);
    const child: Child = {
      spec,
      proc: null,
      restarts: 0,
      exits: 0,
      backoffMs: this.backoff.initialMs,
      startedAt: 0,
      timer: null,
      removed: false,
    };
    this.children.set(spec.name, child);
    await this.spawn(child);
  }

  has(name: string): boolean {
    return this.children.has(name);
  }

  /** Stops one child (its whole group) and forgets it: it is not restarted. */
  async remove(name: string): Promise<void> {
    const c = this.children.get(name);
    if (!c) return;
    this.children.delete(name);
    c.removed = true;
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    const done = this.stopChild(c);
    this.removing.add(done);
    try {
      await done;
    } finally {
      this.removing.delete(done);
    }
    this.opts.onChange?.();
  }

  /** The pid (and process group id) of a child, or null while it is down. */
  pid(name: string): number | null {
    return this.children.get(name)?.proc?.pid ?? null;
  }

  /** How often a child has died on its own; a start-up wait gives up as soon as this grows. */
  exits(name: string): number {
    return this.children.get(name)?.exits ?? 0;
  }

  states(): ChildState[] {
    return [...this.children.values()].map((c) => ({
      name: c.spec.name,
      kind: c.spec.kind,
      pid: c.proc?.pid ?? null,
      restarts: c.restarts,
      log: c.spec.log,
    }));
  }

  /** Stops every child, later stages first; resolves when every process group is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    const byStage = new Map<number, Child[]>();
    for (const c of this.children.values()) {
      if (c.timer) clearTimeout(c.timer);
      byStage.set(c.spec.stage, [...(byStage.get(c.spec.stage) ?? []), c]);
    }
    for (const stage of [...byStage.keys()].sort((a, b) => b - a)) {
      await Promise.all(byStage.get(stage)!.map((c) => this.stopChild(c)));
    }
    await Promise.allSettled([...this.removing]);
  }

  private async stopChild(c: Child): Promise<void> {
    const pid = c.proc?.pid;
    if (pid === undefined) return;
    const how = await stopGroup(pid, this.graceMs);
    if (how === 'killed')
      this.opts.log(`${c.spec.name} did not stop within ${this.graceMs / 1000} s; killed`);
    c.proc = null;
  }

  private async spawn(c: Child): Promise<void> {
    const { spec } = c;
    const env = await spec.env();
    if (this.stopping || c.removed) return;
    mkdirSync(dirname(spec.log), { recursive: true, mode: 0o700 });
    const fd = openSync(spec.log, 'a', 0o600);
    writeSync(
      fd,
      `--- ${new Date().toISOString()} starting ${spec.name}: ${spec.command} ${spec.args.join(' ')}\n`,
    );
    let proc: ChildProcess;
    try {
      // detached: the child leads its own process group, so stop() can signal all of it and
      // Ctrl-C in the terminal reaches only the supervisor, which then stops children in order.
      proc = spawn(spec.command, spec.args, {
        detached: true,
        stdio: ['ignore', fd, fd],
        env,
        ...(spec.cwd && { cwd: spec.cwd }),
      });
    } finally {
      closeSync(fd);
    }
    c.proc = proc;
    c.startedAt = Date.now();
    let ended = false;
    const onEnd = (what: string) => {
      if (ended) return;
      ended = true;
      this.onExit(c, proc, what);
    };
    proc.once('error', (err) => onEnd(`failed to start: ${err.message}`));
    proc.once('exit', (code, signal) =>
      onEnd(signal ? `was killed by ${signal}` : `exited with code ${code}`),
    );
    this.opts.onChange?.();
  }

  private onExit(c: Child, proc: ChildProcess, what: string): void {
    if (c.proc !== proc) return;
    c.proc = null;
    if (this.stopping || c.removed) return;
    c.exits++;
    // Whatever the dead leader forked would be orphaned: clear the group before restarting.
    if (proc.pid !== undefined) killGroup(proc.pid);
    if (Date.now() - c.startedAt >= HEALTHY_RUN_MS) c.backoffMs = this.backoff.initialMs;
    const delay = c.backoffMs;
    c.backoffMs = Math.min(c.backoffMs * 2, this.backoff.maxMs);
    this.opts.log(`${c.spec.name} ${what}; restarting in ${delay / 1000} s (log: ${c.spec.log})`);
    this.opts.onChange?.();
    c.timer = setTimeout(() => {
      c.timer = null;
      c.restarts++;
      this.spawn(c).catch((err: unknown) => {
        this.opts.log(`${c.spec.name} could not be restarted: ${(err as Error).message}`);
      });
    }, delay);
  }
}

/** SIGKILL to what is left of a dead child's group; the (reaped) leader's pid alone is never signalled. */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left of the group.
  }
}
