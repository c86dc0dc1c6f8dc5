import { join } from 'node:path';
import { TrellisError } from '../errors.js';
import { withPidLock } from '../lab/pid-lock.js';
import type { LabPaths } from '../lab/state.js';

/**
 * One `trellis deploy` or `trellis purge` at a time per lab: each decides from what is
 * installed, so two at once could both find a VM free.
 */
export function withLabLock<T>(paths: LabPaths, job: () => Promise<T>, waitMs = 120_000): Promise<T> {
  const file = join(paths.dir, 'deploy.lock');
  return withPidLock(file, job, {
    waitMs,
    busy: (pid) =>
      new TrellisError('TRELLIS_ERR_CONFLICT', `another deploy or purge (pid ${pid}) is still running`, {
        hint: `wait for it, or remove ${file} if that process is not trellis`,
      }),
  });
}
