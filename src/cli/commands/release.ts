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
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
The release is a .tar.gz of this package and its production dependencies, with one top
directory <id>/; on a host with Node and no network:
  tar -xzf trellis-0.1.0-<hash>.tar.gz -C /opt/trellis/releases
  node /opt/trellis/releases/trellis-0.1.0-<hash>/bin/trellis.js --version
The same content always gets the same id. See docs/packaging.md.

Examples:
  trellis release build
  trellis release build -o json | jq -r .path`,
    )
    .action(async (opts: { output: OutputFormat }) => {
      // Loaded here: nothing else in the CLI needs the tar writer or the closure walk.
      const { currentRelease } = await import('../../release/release.js');
      const r = await currentRelease();
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
