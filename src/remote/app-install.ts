import { realpath } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type LoadedApp, usesAppPackage } from '../app/app-file.js';
import { TrellisError } from '../errors.js';
import { hostLayout, type InstalledRelease } from '../host/layout.js';
import { appPackage, appPackageRoot } from '../release/app-package.js';
import type { Release } from '../release/release.js';
import { type Connection, lastLine, shellQuote } from './connection.js';
import { copyPackage } from './release-install.js';

/**
 * Puts the app package a service runs from (`{app}`) on a host, beside its release:
 * R/apps/<id>, unpacked once like a release, and R/apps/node_modules/trellis pointed at the
 * release the host runs now, which is how the app's `import 'trellis/workload'` resolves.
 * Returns the directory `{app}` means on that host, or undefined when the service names no
 * `{app}` (a `command:` of the host's own, a module of the release).
 *
 * `trellis_release: link` (the lab) runs the controller's checkout in place, apps included.
 */
export async function installApp(
  conn: Connection,
  app: LoadedApp,
  hostOwner: string,
  release: InstalledRelease,
  pack: (root: string) => Promise<Release> = appPackage,
): Promise<string | undefined> {
  const service = app.spec.services[hostOwner];
  if (!service || !usesAppPackage(service)) return undefined;
  const root = await appPackageRoot(app.file);
  if (conn.host.vars.trellis_release === 'link') return realpath(root);
  const pkg = await pack(root);
  const layout = hostLayout(conn.host.root);
  const dir = layout.app(pkg.id);
  const probe = await conn.exec([
    'sh',
    '-c',
    `test -f ${shellQuote(`${dir}/.complete`)} && echo present || echo absent`,
  ]);
  if (probe.stdout.trim() !== 'present') await copyPackage(conn, pkg, layout.apps, 'package.json');
  await linkTrellis(conn, layout.apps, dirname(dirname(release.bin)));
  return dir;
}

/** R/apps/node_modules/trellis → the release, replaced in one rename (never missing mid-deploy). */
async function linkTrellis(conn: Connection, apps: string, releaseDir: string): Promise<void> {
  const q = shellQuote;
  const link = `${apps}/node_modules/trellis`;
  const res = await conn.exec([
    'sh',
    '-c',
    `set -e; umask 022; mkdir -p ${q(`${apps}/node_modules`)}; ln -sfn ${q(releaseDir)} ${q(`${link}.tmp`)}; mv -T ${q(`${link}.tmp`)} ${q(link)}`,
  ]);
  if (res.code !== 0) {
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${conn.host.name}: linking ${link} to ${releaseDir} failed: ${lastLine(res.stderr)}`,
    );
  }
}
