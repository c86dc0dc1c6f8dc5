import { open, readFile, rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrellisError } from '../errors.js';
import { isAlive } from '../lab/processes.js';
import type { HostLayout } from './layout.js';

/**
 * One change at a time on a host: two deploys onto one VM at once (two operators, or a deploy
 * and a purge) would both find it free and both write units. A lock file made with O_EXCL,
 * holding the pid; one left by a dead process is taken over.
 */
export async function withHostLock<T>(
  layout: HostLayout,
  job: () => Promise<T>,
  waitMs = 120_000,
): Promise<T> {
  const file = `${layout.run}/host.lock`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = await open(file, 'wx', 0o600);
      await fd.writeFile(`${process.pid}\n`);
      await fd.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (!Number.isInteger(pid) || pid <= 0 || !(await isAlive(pid))) {
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new TrellisError(
          'TRELLIS_ERR_CONFLICT',
          `${layout.root} is being changed by pid ${pid} (${file})`,
          {
            hint: 'another deploy or purge is running on this host; try again when it is done',
          },
        );
      await sleep(100);
    }
  }
  try {
    return await job();
  } finally {
    await rm(file, { force: true });
  }
}
