import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { TrellisError } from '../errors.js';
import { trellisHome } from '../home/config.js';
import { buildRelease, type Release } from './release.js';

/**
 * An app package: the npm package that holds an app file (the nearest package.json above it),
 * shipped to a VM beside the release so that `{app}` in the app file names it there. It is
 * packed like a release — what `npm pack` ships plus its production dependency closure — but
 * without Trellis: an app imports Trellis (`trellis/workload`) as a peer the host provides,
 * so the examples' ioredis or pglite-socket travel with the app that needs them, never with
 * Trellis, and Trellis is never copied twice.
 */

/** What the host provides to every app package (R/apps/node_modules/trellis → the release). */
export const PROVIDED_TO_APPS = ['trellis'] as const;

/** The directory of the nearest package.json at or above the app file's directory. */
export async function appPackageRoot(appFile: string): Promise<string> {
  const start = dirname(resolve(appFile));
  for (let dir = start; ; dir = dirname(dir)) {
    const found = await stat(join(dir, 'package.json')).then(
      (s) => s.isFile(),
      () => false,
    );
    if (found) return dir;
    if (dirname(dir) === dir) {
      throw new TrellisError(
        'TRELLIS_ERR_VALIDATION',
        `${appFile} names {app}, but no package.json is at or above ${start}`,
        {
          hint: 'an app whose services run its own modules is an npm package: add a package.json (see docs/app-file.md)',
        },
      );
    }
  }
}

/** The packed app package (built once per content; cached under $TRELLIS_HOME/apps). */
export async function appPackage(root: string, cacheDir = join(trellisHome(), 'apps')): Promise<Release> {
  return buildRelease({ packageRoot: root, cacheDir, provided: PROVIDED_TO_APPS });
}
