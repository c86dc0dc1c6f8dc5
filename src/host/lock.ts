import { TrellisError } from '../errors.js';
import type { HostLayout } from './layout.js';
import { withPidLock } from './pid-lock.js';

/**
 * One change at a time on a host: two deploys onto one VM at once (two operators, or a deploy
 * and a purge) would both find it free and both write units.
 */
export function withHostLock<T>(layout: HostLayout, job: () => Promise<T>, waitMs = 120_000): Promise<T> {
  const file = `${layout.run}/host.lock`;
  return withPidLock(file, job, {
    waitMs,
    busy: (pid) =>
      new TrellisError('TRELLIS_ERR_CONFLICT', `${layout.root} is being changed by pid ${pid} (${file})`, {
        hint: 'another deploy or purge is running on this host; try again when it is done',
      }),
  });
}
