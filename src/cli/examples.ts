import type { Command } from 'commander';

/** One example of a command's help: what it does, then the command line. */
export type Example = [what: string, line: string];

/**
 * Adds the `Examples:` section to a command's --help, as kubectl's help has one. Every command
 * has one (test/cli-help.test.ts walks the command tree): a user learns a command from them.
 */
export function examples(cmd: Command, list: Example[]): Command {
  const text = list.map(([what, line]) => `  # ${what}\n  ${line}`).join('\n\n');
  return cmd.addHelpText('after', `\nExamples:\n${text}\n`);
}
