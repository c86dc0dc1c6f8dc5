import { randomBytes } from 'node:crypto';
import { link, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TrellisError } from '../errors.js';
import { isAlive } from './processes.js';

/** An empty lock file older than this was left by a process that died before writing its pid. */
const EMPTY_STALE_MS = 5_000;
/** A takeover lock younger than this is never judged stale: it is held for milliseconds. */
const TAKEOVER_STALE_MS = 2_000;

/**
 * A lock file holding its owner's pid (`PID\n`, as every release wrote it); one left by a
 * process that is gone is taken over. `busy` names the holder when the wait runs out.
 *
 * The file is written under a name of our own and then hard-linked into place (link(2) fails
 * if the lock exists), so a lock file never exists without its pid: created empty and filled
 * after (as it was), a contender reading it in between took it for stale and removed it, and
 * both ran (test/host-units, src/host/pid-lock.test.ts). A holder knows its lock by inode, so
 * a release removes only its own. A stale lock is dropped only under a second, short-lived lock
 * (`FILE.takeover`), after checking it is still the file judged stale: two contenders that
 * found the same dead holder must not remove the fresh lock the first of them made.
 */
export async function withPidLock<T>(
  file: string,
  job: () => Promise<T>,
  o: { waitMs: number; busy(pid: number): TrellisError },
): Promise<T> {
  const deadline = Date.now() + o.waitMs;
  const mine = `${file}.${process.pid}.${randomBytes(8).toString('hex')}`;
  let ino: number;
  try {
    await writeFile(mine, `${process.pid}\n`, { mode: 0o600 });
    ino = (await stat(mine)).ino;
    for (;;) {
      try {
        await link(mine, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await readLock(file);
      // Released between our link and our read: try again at once.
      if (held === undefined) continue;
      const pid = Number(held.text.trim());
      const stale =
        held.text.trim() === ''
          ? Date.now() - held.mtimeMs > EMPTY_STALE_MS
          : !Number.isInteger(pid) || pid <= 0 || !(await isAlive(pid));
      if (stale && (await dropIfStill(file, held.ino, mine, ino))) continue;
      // Bounded on every path: a live holder, or a takeover another contender holds (stopped).
      if (Date.now() > deadline) throw o.busy(pid);
      await sleep(stale ? 10 : 100);
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await job();
  } finally {
    // Ours unless an operator removed it by hand and another process took it since.
    if ((await stat(file).catch(() => undefined))?.ino === ino) await rm(file, { force: true });
  }
}

/** The lock's content and inode, read from one open file; undefined when there is none. */
async function readLock(
  file: string,
): Promise<{ text: string; ino: number; mtimeMs: number; ctimeMs: number } | undefined> {
  let h: Awaited<ReturnType<typeof open>>;
  try {
    h = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err; // e.g. EACCES: another user's lock; looping on it would spin
  }
  try {
    const s = await h.stat();
    return { text: await h.readFile('utf8'), ino: s.ino, mtimeMs: s.mtimeMs, ctimeMs: s.ctimeMs };
  } finally {
    await h.close();
  }
}

/**
 * Removes the lock judged stale (inode `staleIno`) if it is still that file, under
 * FILE.takeover (made from `mine` by link(2), so it holds our pid). False when another
 * contender holds the takeover: the caller waits a moment and looks again. A takeover lock
 * is stale only when its pid is gone and its ctime (which link(2) sets) is older than
 * TAKEOVER_STALE_MS: a contender that died in the few milliseconds it holds one.
 */
async function dropIfStill(file: string, staleIno: number, mine: string, mineIno: number): Promise<boolean> {
  const guard = `${file}.takeover`;
  try {
    await link(mine, guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Content, inode and ctime from one open file (readLock), so they are of one file.
    const taker = await readLock(guard).catch(() => undefined);
    const pid = Number(taker?.text.trim());
    if (
      taker &&
      Date.now() - taker.ctimeMs > TAKEOVER_STALE_MS &&
      Number.isInteger(pid) &&
      pid > 0 &&
      !(await isAlive(pid)) &&
      // Still that file right before the rm (another contender may have replaced it meanwhile).
      (await stat(guard).catch(() => undefined))?.ino === taker.ino
    )
      await rm(guard, { force: true });
    return false;
  }
  try {
    const now = await stat(file).catch(() => undefined);
    if (now?.ino === staleIno) {
      const deadPid = Number((await readLock(file))?.text.trim());
      await rm(file, { force: true });
      if (Number.isInteger(deadPid) && deadPid > 0) await sweepTemps(file, deadPid);
    }
  } finally {
    if ((await stat(guard).catch(() => undefined))?.ino === mineIno) await rm(guard, { force: true });
  }
  return true;
}

/** The temporary files a dead holder left beside the lock (`FILE.PID.*`). */
async function sweepTemps(file: string, pid: number): Promise<void> {
  const prefix = `${basename(file)}.${pid}.`;
  const names = await readdir(dirname(file)).catch(() => [] as string[]);
  for (const n of names) if (n.startsWith(prefix)) await rm(join(dirname(file), n), { force: true });
}
