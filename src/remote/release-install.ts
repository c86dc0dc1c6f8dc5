import { TrellisError } from '../errors.js';
import { hostLayout } from '../host/layout.js';
import type { Release } from '../release/release.js';
import { type Connection, lastLine, shellQuote } from './connection.js';

/**
 * Puts a release on a host, once: unpacked under R/releases/<id> (a marker file says it is
 * whole), and R/bin/trellis pointed at it. Copied from the controller, never assumed present
 * and never fetched by the host (hosts need no registry access). Needs sh, tar and node there.
 */
export interface InstalledRelease {
  id: string;
  /** Absolute path of node on the host (systemd units need one). */
  node: string;
  /** R/releases/<id>/bin/trellis.js */
  bin: string;
  /** R/bin/trellis */
  wrapper: string;
}

export async function installRelease(conn: Connection, release: Release): Promise<InstalledRelease> {
  const layout = hostLayout(conn.host.root);
  const dir = layout.release(release.id);
  const q = shellQuote;
  const node = await conn.exec(['sh', '-c', 'command -v node']);
  const nodePath = node.stdout.trim();
  if (node.code !== 0 || !nodePath.startsWith('/')) {
    throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', `${conn.host.name} has no node on its PATH`, {
      hint: 'install Node.js 20 or later on the host (Trellis copies itself, but not Node)',
    });
  }
  const present = await conn.exec(['test', '-f', `${dir}/.complete`]);
  if (present.code !== 0) {
    // Unpacked beside, then renamed: a copy cut off half-way never looks like a release.
    const script = [
      'set -e',
      'umask 022',
      `mkdir -p ${q(layout.releases)}`,
      `tmp=$(mktemp -d ${q(`${layout.releases}/.incoming.XXXXXX`)})`,
      'trap \'rm -rf "$tmp"\' EXIT',
      'tar -xzf - -C "$tmp"',
      `test -f "$tmp"/${q(release.id)}/bin/trellis.js`,
      `rm -rf ${q(dir)}`,
      `mv "$tmp"/${q(release.id)} ${q(dir)}`,
      `date +%s > ${q(`${dir}/.complete`)}`,
    ].join('\n');
    const res = await conn.exec(['sh', '-c', script], { inputFile: release.tarball, timeoutMs: 600_000 });
    if (res.code !== 0) {
      throw new TrellisError(
        'TRELLIS_ERR_UNAVAILABLE',
        `copying release ${release.id} to ${conn.host.name}:${dir} failed: ${lastLine(res.stderr)}`,
      );
    }
  }
  const bin = `${dir}/bin/trellis.js`;
  const wrapper = `#!/bin/sh\n# Written by trellis: runs release ${release.id}.\nexec ${q(nodePath)} ${q(bin)} "$@"\n`;
  const res = await conn.exec(
    [
      'sh',
      '-c',
      `set -e; umask 022; mkdir -p ${q(`${layout.root}/bin`)}; cat > ${q(`${layout.wrapper}.tmp`)}; chmod 755 ${q(`${layout.wrapper}.tmp`)}; mv ${q(`${layout.wrapper}.tmp`)} ${q(layout.wrapper)}`,
    ],
    { input: wrapper },
  );
  if (res.code !== 0) {
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${conn.host.name}: writing ${layout.wrapper} failed: ${lastLine(res.stderr)}`,
    );
  }
  return { id: release.id, node: nodePath, bin, wrapper: layout.wrapper };
}
