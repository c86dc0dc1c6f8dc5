import { realpath } from 'node:fs/promises';
import { TrellisError } from '../errors.js';
import { hostLayout, type InstalledRelease } from '../host/layout.js';

import { type Release, runningPackageRoot } from '../release/release.js';
import { type Connection, lastLine, shellQuote } from './connection.js';

/**
 * Puts a release on a host, once: unpacked under R/releases/<id> (a marker file says it is
 * whole), and R/bin/trellis pointed at it. Copied from the controller, never assumed present
 * and never fetched by the host (hosts need no registry access). Needs sh, tar and node there.
 */

/** The release a host runs: copied from `release()` (built once, on first need), or linked. */
export async function installRelease(
  conn: Connection,
  release: () => Promise<Release>,
): Promise<InstalledRelease> {
  if (conn.host.vars.trellis_release === 'link') return linkRelease(conn);
  const r = await release();
  const layout = hostLayout(conn.host.root);
  const dir = layout.release(r.id);
  // One round trip for both questions: where node is, and whether this release is there.
  const probe = await conn.exec([
    'sh',
    '-c',
    `command -v node && { test -f ${shellQuote(`${dir}/.complete`)} && echo present || echo absent; }`,
  ]);
  const [nodePath = '', presence] = probe.stdout.trim().split('\n');
  if (probe.code !== 0 || !nodePath.startsWith('/')) {
    throw new TrellisError('TRELLIS_ERR_UNAVAILABLE', `${conn.host.name} has no node on its PATH`, {
      hint: 'install Node.js 20 or later on the host (Trellis copies itself, but not Node)',
    });
  }
  if (presence !== 'present') await copyRelease(conn, r);
  const bin = `${layout.release(r.id)}/bin/trellis.js`;
  await writeWrapper(conn, r.id, nodePath, bin);
  return { id: r.id, node: nodePath, bin, wrapper: layout.wrapper };
}

/**
 * `trellis_release: link`, for hosts on the controller's own machine (the lab): the host runs
 * the controller's Trellis where it is — the same node, the same package — instead of an
 * unpacked copy of it. Everything after the wrapper is the same as for a copied release.
 */
async function linkRelease(conn: Connection): Promise<InstalledRelease> {
  if (conn.host.connection !== 'local') {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `${conn.host.name}: trellis_release: link needs ansible_connection: local (a host over SSH gets a copy)`,
    );
  }
  // The real path: the host derives its release from the path it runs from (see thisRelease).
  const bin = `${await realpath(await runningPackageRoot())}/bin/trellis.js`;
  await writeWrapper(conn, 'linked', process.execPath, bin);
  return { id: 'linked', node: process.execPath, bin, wrapper: hostLayout(conn.host.root).wrapper };
}

/** Unpacked beside, then renamed: a copy cut off half-way never looks like a release. */
function copyRelease(conn: Connection, release: Release): Promise<void> {
  const layout = hostLayout(conn.host.root);
  return copyPackage(conn, release, layout.releases, 'bin/trellis.js');
}

/**
 * A packed package (a release, an app package) into `parent/<id>`: unpacked beside, checked
 * for `mustHave`, renamed, then marked whole with `.complete` (unix time).
 */
export async function copyPackage(
  conn: Connection,
  pkg: Release,
  parent: string,
  mustHave: string,
): Promise<void> {
  const dir = `${parent}/${pkg.id}`;
  const q = shellQuote;
  const script = [
    'set -e',
    'umask 022',
    `mkdir -p ${q(parent)}`,
    `tmp=$(mktemp -d ${q(`${parent}/.incoming.XXXXXX`)})`,
    'trap \'rm -rf "$tmp"\' EXIT',
    'tar -xzf - -C "$tmp"',
    `test -f "$tmp"/${q(`${pkg.id}/${mustHave}`)}`,
    `rm -rf ${q(dir)}`,
    `mv "$tmp"/${q(pkg.id)} ${q(dir)}`,
    `date +%s > ${q(`${dir}/.complete`)}`,
  ].join('\n');
  const res = await conn.exec(['sh', '-c', script], { inputFile: pkg.tarball, timeoutMs: 600_000 });
  if (res.code !== 0) {
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `copying ${pkg.id} to ${conn.host.name}:${dir} failed: ${lastLine(res.stderr)}`,
    );
  }
}

/**
 * R/bin/trellis: what deploy, the Ansible role and operators run on the host. It carries the
 * host's trellis_service_manager, so every `trellis host …` on the host agrees on who runs units.
 */
async function writeWrapper(conn: Connection, id: string, nodePath: string, bin: string): Promise<void> {
  const layout = hostLayout(conn.host.root);
  const q = shellQuote;
  const manager = conn.host.vars.trellis_service_manager;
  const env = manager === 'supervise' || manager === 'systemd' ? `TRELLIS_SERVICE_MANAGER=${manager} ` : '';
  const wrapper = `#!/bin/sh\n# Written by trellis: runs release ${id}.\n${env}exec ${q(nodePath)} ${q(bin)} "$@"\n`;
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
}
