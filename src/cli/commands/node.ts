import type { Command } from 'commander';
import { print } from '../output.js';
import { client } from '../session.js';

/** `trellis node reset NAME`: frees a node's name from the key that holds it (a rebuilt VM). */
export function registerNode(program: Command): void {
  const node = program.command('node').description('manage one fabric node');
  node
    .command('reset')
    .description(
      "free a node's name from its key: its sessions end and the next registration binds a new key",
    )
    .argument('<name>', "the node's name (its VM or processor name)")
    .addHelpText(
      'after',
      `
A node name belongs to the key that registered it, so a stolen password cannot move a node.
When a VM is really rebuilt (new key), reset its name, then start its agent again.

Example:
  trellis node reset aws-11`,
    )
    .action(async (name: string) => {
      const api = await client();
      const n = await api.resetNode(name);
      print(`node "${n.name}" reset: the next registration of ${n.domain}/${n.owner} binds a new key`);
    });
}
