import type { Command } from 'commander';
import { type OutputFormat, print, render } from '../output.js';
import { outputOption } from './get.js';

/** `trellis release build`: the release `trellis deploy` copies, for those who copy it themselves. */
export function registerRelease(program: Command): void {
  const release = program
    .command('release')
    .description('the self-contained release that deploy copies to hosts');
  release
    .command('build')
    .description('build (or reuse from $TRELLIS_HOME/releases) the release of this Trellis')
    .option(
      '--app <file>',
      'build the app package holding this app file instead ({app} on the VM; cached in $TRELLIS_HOME/apps)',
    )
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
The release is a .tar.gz of this package and its production dependencies, with one top
directory <id>/; on a host with Node and no network:
  tar -xzf trellis-0.1.0-<hash>.tar.gz -C /opt/trellis/releases
  node /opt/trellis/releases/trellis-0.1.0-<hash>/bin/trellis.js --version
The same content always gets the same id. See docs/packaging.md.

With --app, the package that holds an app file (its nearest package.json) is packed the same way,
without Trellis: deploy unpacks it to /opt/trellis/apps/<id>, which {app} names.

Examples:
  trellis release build
  trellis release build -o json | jq -r .path
  trellis release build --app examples/voting-app/app.yaml`,
    )
    .action(async (opts: { output: OutputFormat; app?: string }) => {
      // Loaded here: nothing else in the CLI needs the tar writer or the closure walk.
      const { currentRelease } = await import('../../release/release.js');
      const { appPackage, appPackageRoot } = await import('../../release/app-package.js');
      const r = opts.app ? await appPackage(await appPackageRoot(opts.app)) : await currentRelease();
      const row = { id: r.id, version: r.version, path: r.tarball, size: r.bytes };
      print(
        render(row, opts.output, [
          { header: 'ID', value: (x) => x.id },
          { header: 'SIZE', value: (x) => `${(x.size / 1048576).toFixed(1)} MiB` },
          { header: 'PATH', value: (x) => x.path },
        ]),
      );
    });
}
