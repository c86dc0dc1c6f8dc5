import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { type Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/main.js';
import { TRELLIS_BIN } from './support/cli.js';

const run = promisify(execFile);

/** Every visible command of the tree, with its path (`trellis lab up`). */
function commands(): { path: string; cmd: Command }[] {
  const help = new Help();
  const out: { path: string; cmd: Command }[] = [];
  const walk = (cmd: Command, path: string) => {
    out.push({ path, cmd });
    for (const sub of help.visibleCommands(cmd))
      if (sub.name() !== 'help') walk(sub, `${path} ${sub.name()}`);
  };
  walk(buildProgram(), 'trellis');
  return out;
}

/** What `--help` prints for a command, Examples included (they come from help's "after" text). */
function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe('trellis --help of every command', () => {
  const all = commands();

  it('walks the whole tree (the tree is not empty: a broken walk would pass everything)', () => {
    const paths = all.map((c) => c.path);
    expect(paths).toContain('trellis get');
    expect(paths).toContain('trellis lab up');
    expect(paths).toContain('trellis completion');
    expect(all.length).toBeGreaterThan(40);
  });

  it('every command has an Examples section with at least one trellis command line', () => {
    const missing = all.filter(({ cmd }) => !/\nExamples:\n(.*\n)*.*\btrellis /.test(helpOf(cmd)));
    expect(missing.map((c) => c.path)).toEqual([]);
  });

  it('every flag and every argument has a description', () => {
    const help = new Help();
    const bare = all.flatMap(({ path, cmd }) => [
      ...help
        .visibleOptions(cmd)
        .filter((o) => !o.description.trim())
        .map((o) => `${path} ${o.flags}`),
      ...help
        .visibleArguments(cmd)
        .filter((a) => !a.description.trim())
        .map((a) => `${path} <${a.name()}>`),
    ]);
    expect(bare).toEqual([]);
  });

  it('the built CLI prints the Examples of `trellis get --help` and exits 0', async () => {
    const { stdout } = await run(process.execPath, [TRELLIS_BIN, 'get', '--help']);
    expect(stdout).toContain('Examples:');
    expect(stdout).toContain('trellis get nodes --watch');
    expect(stdout).toMatch(/-o, --output <format>\s+output format \(wide: a table with more columns\)/);
  });
});
