import { randomBytes } from 'node:crypto';
import { link, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TrellisError } from '../errors.js';
import { isAlive } from './processes.js';

/** An empty lock file older than this was left by a process that died before writing its pid. */
const EMPTY_STALE_MS = 5_000;

/**
 * A lock file holding its owner's pid; one left by a process that is gone is taken over.
 * `busy` names the holder when the wait runs out.
 *
 * The file is written under a name of our own and then hard-linked into place (link(2) fails
 * if the lock exists), so a lock file never exists without its pid: created empty and filled
 * after (as it was), a contender reading it in between took it for stale and removed it, and
 * both ran (test/host-units, src/host/pid-lock.test.ts). A stale lock is dropped only under a
 * second, short-lived lock (`FILE.takeover`), after reading it again: two contenders that found
 * the same dead holder must not remove the fresh lock the first of them made. The pid is
 * followed by a random token, so a release removes only its own lock.
 */
export async function withPidLock<T>(
  file: string,
  job: () => Promise<T>,
  o: { waitMs: number; busy(pid: number): TrellisError },
): Promise<T> {
  const deadline = Date.now() + o.waitMs;
  const token = randomBytes(8).toString('hex');
  const mine = `${file}.${process.pid}.${token}`;
  const content = `${process.pid} ${token}\n`;
  await writeFile(mine, content, { mode: 0o600 });
  try {
    for (;;) {
      try {
        await link(mine, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await readFile(file, 'utf8').catch(() => undefined);
      // Released between our link and our read: try again at once.
      if (held === undefined) continue;
      const pid = Number(held.trim().split(/\s+/)[0]);
      const stale =
        held.trim() === ''
          ? await olderThan(file, EMPTY_STALE_MS)
          : !Number.isInteger(pid) || pid <= 0 || !(await isAlive(pid));
      if (stale) {
        if (!(await dropIfStill(file, held, mine))) await sleep(10);
        continue;
      }
      if (Date.now() > deadline) throw o.busy(pid);
      await sleep(100);
    }
  } finally {
    await rm(mine, { force: true });
  }
  try {
    return await job();
  } finally {
    // Ours unless an operator removed it by hand and another process took it since.
    if ((await readFile(file, 'utf8').catch(() => undefined)) === content) await rm(file, { force: true });
  }
}

/**
 * Removes the lock judged stale from `held` if it still says that, under FILE.takeover (made
 * from `mine` by link(2), so it names us too). False when another contender holds the
 * takeover: the caller waits a moment and looks again. A takeover lock whose pid is gone was
 * left by a contender that died in the few milliseconds it is held.
 */
async function dropIfStill(file: string, held: string, mine: string): Promise<boolean> {
  const guard = `${file}.takeover`;
  try {
    await link(mine, guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Judged by its pid, not its age: a hard link keeps the inode's mtime, so a contender that
    // waited long would look stale the moment it took the takeover lock.
    const taker = Number((await readFile(guard, 'utf8').catch(() => '')).trim().split(/\s+/)[0]);
    if (Number.isInteger(taker) && taker > 0 && !(await isAlive(taker))) await rm(guard, { force: true });
    return false;
  }
  try {
    if ((await readFile(file, 'utf8').catch(() => undefined)) === held) await rm(file, { force: true });
  } finally {
    await rm(guard, { force: true });
  }
  return true;
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  const s = await stat(file).catch(() => undefined);
  return s !== undefined && Date.now() - s.mtimeMs > ms;
}
