import { readdir, readFile, realpath } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrellisError } from '../errors.js';
import { fabricDown } from '../fabric/status.js';
import { HOST_MARKER } from '../host/supervise.js';
import { loadInventory } from '../inventory/inventory.js';
import { connect } from '../remote/connection.js';
import { isAlive, markedProcesses, stopGroup } from './processes.js';
import { type LabPaths, labPaths, readState, removeState } from './state.js';

/**
 * `lab down`: `fabric down` on the lab's inventory (services and agents, then processors, then
 * the orchestrator), then make sure of it — every process of a lab host is gone (a unit left by
 * a supervisor killed with -9, a supervisor that did not exit), killing stragglers. Data and
 * the hosts' roots stay, so the next `lab up` finds its stores again.
 */

export interface DownResult {
  /** Whether there was anything to stop. */
  wasRunning: boolean;
  /** Processes that had to be stopped after `fabric down`. */
  stragglers: number;
}

const SUPERVISORS_EXIT_MS = 10_000;

export async function labDown(opts: { paths?: LabPaths; out(text: string): void }): Promise<DownResult> {
  const paths = opts.paths ?? labPaths();
  const state = await readState(paths);
  const t0 = Date.now();
  const inventory = state ? await loadInventory(state.inventory).catch(() => undefined) : undefined;
  if (inventory) {
    try {
      await fabricDown(inventory, connect, (l) => opts.out(`${l}\n`));
    } catch (err) {
      opts.out(`fabric down failed (${(err as Error).message}); stopping what is left\n`);
    }
  }
  const hostsDir = state?.hostsDir ?? (await realpath(paths.hosts).catch(() => undefined));
  let stragglers = 0;
  if (hostsDir) {
    // With no unit left, each host's supervisor exits by itself; give it a moment.
    const deadline = Date.now() + SUPERVISORS_EXIT_MS;
    while ((await labHostProcesses(hostsDir)).length > 0 && Date.now() < deadline) await sleep(100);
    const left = await labHostProcesses(hostsDir);
    stragglers = left.length;
    if (left.length > 0) {
      opts.out(`stopping ${left.length} process(es) left behind: ${left.join(', ')}… `);
      await Promise.all(left.map((pid) => stopGroup(pid).catch(() => undefined)));
      opts.out('ok\n');
    }
    const alive = await labHostProcesses(hostsDir);
    if (alive.length > 0) {
      throw new TrellisError('TRELLIS_ERR_INTERNAL', `lab processes survived SIGKILL: ${alive.join(', ')}`, {
        hint: 'they may be stuck in the kernel (state D); check `ps -o pid,stat,cmd -p <pid>`',
      });
    }
  }
  await removeState(paths);
  const wasRunning = state !== undefined || stragglers > 0;
  opts.out(
    wasRunning ? `the lab is down (${((Date.now() - t0) / 1000).toFixed(1)} s)\n` : 'no lab is running\n',
  );
  return { wasRunning, stragglers };
}

/**
 * Every live process of a lab host: units carry their host's root in their environment, and a
 * host's `trellis supervise` names it in its arguments.
 */
export async function labHostProcesses(hostsDir: string): Promise<number[]> {
  const units = await markedProcesses(HOST_MARKER, `${hostsDir}/`, true);
  const supervisors: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').then(
      (t) => t.split('\0'),
      () => [] as string[],
    );
    const root = argv[argv.indexOf('--root') + 1];
    if (argv.includes('supervise') && root?.startsWith(`${hostsDir}/`) && (await isAlive(pid)))
      supervisors.push(pid);
  }
  return [...new Set([...units, ...supervisors])];
}
