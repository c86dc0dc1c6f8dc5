import { setTimeout as sleep } from 'node:timers/promises';
import { TrellisError } from '../errors.js';
import {
  isAlive,
  isLabProcess,
  isLabSupervisor,
  labProcesses,
  STOP_GRACE_MS,
  stopGroup,
} from './processes.js';
import { type LabPaths, labPaths, readState, removeState } from './state.js';

/**
 * `lab down`: ask the supervisor to stop the lab (it stops children in order), then make sure
 * of it — every pid state.json names and every process marked as the lab's is gone, killing
 * stragglers — whether or not the supervisor was still alive to do its part.
 */

export interface DownResult {
  /** Whether there was anything to stop. */
  wasRunning: boolean;
  /** Processes that had to be stopped after the supervisor (or without one). */
  stragglers: number;
}

export async function labDown(opts: { paths?: LabPaths; out(text: string): void }): Promise<DownResult> {
  const paths = opts.paths ?? labPaths();
  const state = await readState(paths);
  const sup = state?.supervisor.pid;
  if (sup !== undefined && (await isLabSupervisor(sup, paths.dir))) {
    const t0 = Date.now();
    opts.out(`stopping the lab (supervisor pid ${sup})… `);
    process.kill(sup, 'SIGTERM');
    // The supervisor gives each stage the grace, so allow for a few stages before forcing it.
    const deadline = Date.now() + 4 * STOP_GRACE_MS;
    while ((await isAlive(sup)) && Date.now() < deadline) await sleep(50);
    if (await isAlive(sup)) {
      process.kill(sup, 'SIGKILL');
      opts.out('killed the supervisor; ');
    }
    opts.out(`ok (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }

  const left = new Set<number>();
  for (const c of state?.children ?? []) {
    if (c.pid !== null && (await isAlive(c.pid)) && (await isLabProcess(c.pid, paths.dir))) left.add(c.pid);
  }
  for (const pid of await labProcesses(paths.dir)) left.add(pid);
  if (left.size > 0) {
    opts.out(`stopping ${left.size} process(es) left behind: ${[...left].join(', ')}… `);
    await Promise.all([...left].map((pid) => stopGroup(pid)));
    opts.out('ok\n');
  }

  const alive: number[] = [];
  const named = (state?.children ?? []).flatMap((c) => (c.pid === null ? [] : [c.pid]));
  for (const pid of [...named, ...(await labProcesses(paths.dir))]) {
    if ((await isAlive(pid)) && (await isLabProcess(pid, paths.dir))) alive.push(pid);
  }
  if (alive.length > 0) {
    throw new TrellisError('TRELLIS_ERR_INTERNAL', `lab processes survived SIGKILL: ${alive.join(', ')}`, {
      hint: 'they may be stuck in the kernel (state D); check `ps -o pid,stat,cmd -p <pid>`',
    });
  }
  await removeState(paths);
  const wasRunning = state !== undefined || left.size > 0;
  opts.out(wasRunning ? 'the lab is down\n' : 'no lab is running\n');
  return { wasRunning, stragglers: left.size };
}
