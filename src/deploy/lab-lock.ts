import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrellisError } from '../errors.js';
import { isAlive } from '../lab/processes.js';
import type { LabPaths } from '../lab/state.js';

/**
 * One `trellis deploy` or `trellis purge` at a time per lab: each decides from what is
 * installed, so two at once could both find a VM free. A lock file holding the pid; a lock
 * whose process is gone is taken over.
 */
export async function withLabLock<T>(paths: LabPaths, job: () => Promise<T>, waitMs = 120_000): Promise<T> {
  const file = join(paths.dir, 'deploy.lock');
  const deadline = Date.now() + waitMs;
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
      if (Date.now() > deadline) {
        throw new TrellisError(
          'TRELLIS_ERR_CONFLICT',
          `another deploy or purge (pid ${pid}) is still running`,
          {
            hint: `wait for it, or remove ${file} if that process is not trellis`,
          },
        );
      }
      await sleep(100);
    }
  }
  try {
    return await job();
  } finally {
    await rm(file, { force: true });
  }
}
