import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TrellisError } from '../errors.js';
import { isAlive } from './processes.js';

/**
 * A lock file made with O_EXCL, holding its owner's pid; one left by a process that is gone is
 * taken over. `busy` names the holder when the wait runs out.
 */
export async function withPidLock<T>(
  file: string,
  job: () => Promise<T>,
  o: { waitMs: number; busy(pid: number): TrellisError },
): Promise<T> {
  const deadline = Date.now() + o.waitMs;
  for (;;) {
    try {
      const h = await open(file, 'wx', 0o600);
      await h.writeFile(`${process.pid}\n`);
      await h.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(pid) || pid <= 0 || !(await isAlive(pid))) {
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw o.busy(pid);
      await sleep(100);
    }
  }
  try {
    return await job();
  } finally {
    await rm(file, { force: true });
  }
}
