import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import { YAML } from '../lazy-yaml.js';
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
    .description('start the orchestrator, apply the fabric, start processors, agents and workloads')
    .option('-f, --file <lab.yaml>', 'lab file', 'examples/hello/lab.yaml')
    .option('--detach', 'supervise the lab in the background and return once it is ready')
    .action(async (opts: { file: string; detach?: boolean }) => {
      // The lab's modules load only for lab commands (agents and processors share this CLI).
      const { labUp } = await import('../../lab/up.js');
      const res = await labUp({ labFile: opts.file, detach: opts.detach === true, out });
      // In the foreground labUp returns after Ctrl-C stopped every child; idle HTTP keep-alive
      // sockets must not hold the terminal for a few more seconds.
      if (!opts.detach && res.started) process.exit(0);
    });

  lab
    .command('down')
    .description('stop the lab: every process it started, then check none is left')
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

  // What `lab up --detach` runs in the background; not meant to be typed.
  lab
    .command('supervise', { hidden: true })
    .requiredOption('-f, --file <lab.yaml>', 'lab file')
    .option('--log <file>', 'where this process writes (recorded for `lab status`)')
    .action(async (opts: { file: string; log?: string }) => {
      const { superviseLab } = await import('../../lab/supervise.js');
      await superviseLab({ labFile: opts.file, out, supervisorLog: opts.log ?? null });
      process.exit(0);
    });
}
