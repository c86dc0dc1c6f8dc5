import { Argument, type Command } from 'commander';
import { bashCompletion, zshCompletion } from '../completion-script.js';
import { print } from '../output.js';

/** `trellis completion bash|zsh`: the script, made from this very command tree. */
export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script for trellis, made from its commands and flags')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      print((shell === 'bash' ? bashCompletion : zshCompletion)(program).trimEnd());
    });
}
