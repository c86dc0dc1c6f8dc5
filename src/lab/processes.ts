import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Process-group plumbing. Every supervised child is spawned detached, so it leads its own
 * process group and whatever it forks stays in that group: signalling the group reaches all of
 * it. Children carry a marker in their environment (their host's root, see host/supervise.ts),
 * so strays are found by scanning /proc even when the supervisor that knew them is gone.
 */

/** The grace a process gets between SIGTERM and SIGKILL. */
export const STOP_GRACE_MS = 5_000;

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** A zombie has exited; it only waits for its parent to reap it. */
async function isZombie(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

export async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else — still alive.
    return errno(err) === 'EPERM';
  }
  return !(await isZombie(pid));
}

/** Whether any member of the group led by `pgid` still exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

/**
 * Signals the group `pgid` leads; a process that leads no group (a stray forked by a child)
 * gets the signal itself instead. Once only: node exits at once on a second SIGTERM it has no
 * handler left for, which would cut a graceful shutdown short.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
    return;
  } catch (err) {
    if (errno(err) !== 'ESRCH') throw err;
  }
  try {
    process.kill(pgid, signal);
  } catch (err) {
    if (errno(err) !== 'ESRCH') throw err;
  }
}

async function waitGone(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid) && !(await isAlive(pgid))) return true;
    await sleep(50);
  }
  return !groupAlive(pgid) && !(await isAlive(pgid));
}

/** SIGTERM the whole group, SIGKILL it if anything is left after the grace. */
export async function stopGroup(pgid: number, graceMs = STOP_GRACE_MS): Promise<'exited' | 'killed'> {
  signalGroup(pgid, 'SIGTERM');
  if (await waitGone(pgid, graceMs)) return 'exited';
  signalGroup(pgid, 'SIGKILL');
  await waitGone(pgid, 2_000);
  return 'killed';
}

async function environOf(pid: number): Promise<string[] | undefined> {
  try {
    return (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
  } catch {
    return undefined;
  }
}

/** Every live process (but this one) whose environment holds `key=value` (or `key=value…`, by prefix). */
export async function markedProcesses(key: string, value: string, byPrefix = false): Promise<number[]> {
  if (!(await hasProc())) return [];
  const want = `${key}=${value}`;
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const env = await environOf(pid);
    const marked = byPrefix ? env?.some((e) => e.startsWith(want)) : env?.includes(want);
    if (marked && (await isAlive(pid))) out.push(pid);
  }
  return out;
}

async function hasProc(): Promise<boolean> {
  try {
    await readFile('/proc/self/stat');
    return true;
  } catch {
    return false;
  }
}
