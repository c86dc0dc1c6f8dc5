import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import { YAML } from '../../lazy-yaml.js';
import { print } from '../output.js';

const out = (text: string) => {
  process.stdout.write(text);
};

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description(
      'the local lab: a hybrid-cloud fabric on this machine, one loopback address per processor and VM',
    );

  lab
    .command('up')
    .description(
      "the lab's hosts as an inventory on this machine: fabric up (orchestrator, processors), then deploy every VM",
    )
    .option('-f, --file <lab.yaml>', 'lab file', 'examples/hello/lab.yaml')
    .option('--detach', 'return once everything is ready (each lab host keeps its own units running)')
    .action(async (opts: { file: string; detach?: boolean }) => {
      // The lab's modules load only for lab commands (agents and processors share this CLI).
      const { labUp } = await import('../../lab/up.js');
      const res = await labUp({ labFile: opts.file, detach: opts.detach === true, out });
      // In the foreground labUp returns after Ctrl-C took the lab down; idle HTTP keep-alive
      // sockets must not hold the terminal for a few more seconds.
      if (!opts.detach && res.started) process.exit(0);
      if (opts.detach) process.exit(0);
    });

  lab
    .command('down')
    .description("stop the lab: fabric down on the lab's hosts, then check no process of theirs is left")
    .action(async () => {
      const { labDown } = await import('../../lab/down.js');
      await labDown({ out });
    });

  lab
    .command('status')
    .description('addresses, processor status and URLs of the running lab')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(async (opts: { output: string }) => {
      const { labStatus, renderStatus } = await import('../../lab/status.js');
      const status = await labStatus();
      if (!status) {
        throw new TrellisError('TRELLIS_ERR_NOT_FOUND', 'no lab is running', {
          hint: 'start one with `trellis lab up -f lab.yaml --detach`',
        });
      }
      if (opts.output === 'json') print(JSON.stringify(status, null, 2));
      else if (opts.output === 'yaml') print(YAML().stringify(status).trimEnd());
      else print(renderStatus(status));
    });
}
