import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TRELLIS_BIN } from './support/cli.js';

const run = promisify(execFile);

/**
 * What bash completes after `line` (a trailing space completes a new word), with the script
 * `trellis completion bash` prints sourced into a fresh `bash -c`: as a user's shell does.
 */
async function complete(line: string): Promise<string[]> {
  const script = [
    `source <("${process.execPath}" "${TRELLIS_BIN}" completion bash)`,
    'read -ra COMP_WORDS <<<"$LINE"',
    '[[ "$LINE" == *" " ]] && COMP_WORDS+=("")',
    `COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))`,
    '_trellis',
    `printf "%s\\n" "\${COMPREPLY[@]}"`,
  ].join('\n');
  const { stdout } = await run('bash', ['-c', script], { env: { ...process.env, LINE: line } });
  return stdout.split('\n').filter(Boolean);
}

describe('trellis completion bash', () => {
  it('completes `trellis ge` to `get`', async () => {
    expect(await complete('trellis ge')).toEqual(['get']);
  });

  it('completes subcommands, kinds, flags and the values of a flag from the command tree', async () => {
    expect(await complete('trellis lab ')).toEqual(expect.arrayContaining(['up', 'down', 'status']));
    expect(await complete('trellis get no')).toEqual(['nodes', 'node']);
    expect(await complete('trellis get nodes --wa')).toEqual(['--watch']);
    expect(await complete('trellis get nodes -o ')).toEqual(['table', 'wide', 'json', 'yaml']);
    expect(await complete('trellis completion ')).toEqual(expect.arrayContaining(['bash', 'zsh']));
    // A flag of another command is not offered.
    expect(await complete('trellis lab up --')).not.toContain('--watch');
  });

  it('the zsh script is made from the same tree and registers _trellis with compdef', async () => {
    const { stdout } = await run(process.execPath, [TRELLIS_BIN, 'completion', 'zsh']);
    expect(stdout.startsWith('#compdef trellis\n')).toBe(true);
    expect(stdout).toContain("'get') echo 'domains resource-users contracts");
    expect(stdout).toContain('compdef _trellis trellis');
    // Plain case/echo shared with bash: bash parses it, so no syntax slip hides in the tables.
    await run('bash', [
      '-n',
      '-c',
      stdout.slice(stdout.indexOf('_trellis_subcommands() {'), stdout.indexOf('_trellis() {')),
    ]);
  });

  it('an unknown shell is a usage error (exit 2)', async () => {
    const err = await run(process.execPath, [TRELLIS_BIN, 'completion', 'fish']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toContain('Allowed choices are bash, zsh');
  });
});
