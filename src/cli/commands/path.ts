import type { Command } from 'commander';
import { print, render } from '../output.js';
import { client } from '../session.js';
import { outputOption } from './get.js';

export function registerPath(program: Command): void {
  program
    .command('path')
    .description("compute the path between two processors, honouring a contract's path params")
    .requiredOption('--from <processor>', 'the processor the path starts at')
    .requiredOption('--to <processor>', 'the processor the path ends at')
    .option('--contract <name>', "honour this contract's path params (transit, avoid, maxHops of both roles)")
    .option('--domain <domain>', "the contract's domain (needed only if the name is in several)")
    .addOption(outputOption())
    .action(
      async (opts: {
        from: string;
        to: string;
        contract?: string;
        domain?: string;
        output: 'table' | 'json' | 'yaml';
      }) => {
        const api = await client();
        const p = await api.path(opts.from, opts.to, opts.contract, opts.domain);
        if (opts.output === 'table') print(`${p.path.join(' -> ')}   (cost ${p.cost}, ${p.hops} hops)`);
        else
          print(
            render({ path: p.path, cost: p.cost, hops: p.hops, constraints: p.constraints }, opts.output, []),
          );
      },
    );
}
