import { TrellisError } from '../errors.js';
import type { ApplyResult } from '../host/apply.js';
import type { AttachResult, HostAttach } from '../host/attach.js';
import { HostStatus } from '../host/host-status.js';
import { hostLayout } from '../host/layout.js';
import type { HostApply } from '../host/unit.js';
import { type Connection, lastLine } from './connection.js';

/**
 * The controller's side of `trellis host …`: run it on the host through its connection and
 * read its JSON answer. The on-host command does the work, so SSH, the lab and the Ansible
 * role all end in the same code.
 */

export function remoteApply(conn: Connection, doc: HostApply): Promise<ApplyResult> {
  return hostCommand<ApplyResult>(conn, 'apply', doc);
}

export function remoteAttach(conn: Connection, doc: HostAttach): Promise<AttachResult> {
  return hostCommand<AttachResult>(conn, 'attach', doc);
}

/** `trellis host apply|attach -f -` on the host, the document on stdin, its JSON answer back. */
async function hostCommand<T>(conn: Connection, sub: 'apply' | 'attach', doc: unknown): Promise<T> {
  const { wrapper } = hostLayout(conn.host.root);
  const res = await conn.exec([wrapper, 'host', sub, '--root', conn.host.root, '-f', '-'], {
    input: JSON.stringify(doc),
    timeoutMs: 15 * 60_000,
  });
  if (res.code !== 0) throw hostFailure(conn, sub, res.stderr);
  return JSON.parse(res.stdout) as T;
}

/** `trellis host remove` on the host; `keepState` for a stop that a later apply resumes (fabric down). */
export async function remoteRemove(
  conn: Connection,
  units: string[],
  opts: { keepState?: boolean } = {},
): Promise<HostStatus> {
  const { wrapper } = hostLayout(conn.host.root);
  const res = await conn.exec([
    wrapper,
    'host',
    'remove',
    '--root',
    conn.host.root,
    ...(opts.keepState ? ['--keep-state'] : []),
    ...units,
  ]);
  if (res.code !== 0) throw hostFailure(conn, 'remove', res.stderr);
  return HostStatus.parse(JSON.parse(res.stdout));
}

/** What a host runs; a host Trellis was never installed on runs nothing. */
export async function remoteStatus(conn: Connection): Promise<HostStatus> {
  const { wrapper } = hostLayout(conn.host.root);
  const has = await conn.exec(['test', '-x', wrapper]);
  if (has.code !== 0) return { root: conn.host.root, manager: 'none', pid: null, releases: [], units: [] };
  const res = await conn.exec([wrapper, 'host', 'status', '--root', conn.host.root, '-o', 'json']);
  if (res.code !== 0) throw hostFailure(conn, 'status', res.stderr);
  return HostStatus.parse(JSON.parse(res.stdout));
}

function hostFailure(conn: Connection, what: string, stderr: string): TrellisError {
  // The on-host command's own error (with its hint and log tail) is the useful part.
  const text = stderr.trim().replace(/^error: /, '');
  return new TrellisError(
    'TRELLIS_ERR_UNAVAILABLE',
    `${conn.host.name}: host ${what} failed: ${text || lastLine(stderr)}`,
  );
}
