import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import { formatContractId } from '../../wire/node-id.js';
import { print, render } from '../output.js';
import { client, contractDomain } from '../session.js';
import { outputOption } from './get.js';

export function registerDescribe(program: Command): void {
  program
    .command('describe')
    .description('show one resource in detail: contract NAME')
    .argument('<kind>', 'contract')
    .argument('<name>', "the contract's name")
    .option('--domain <domain>', "the contract's domain (needed only if the name is in several)")
    .addOption(outputOption())
    .action(
      async (kind: string, name: string, opts: { domain?: string; output: 'table' | 'json' | 'yaml' }) => {
        if (kind !== 'contract')
          throw new TrellisError('TRELLIS_ERR_VALIDATION', `cannot describe "${kind}"`, {
            hint: 'describe contract NAME',
          });
        const api = await client();
        const c = await api.contract(await contractDomain(api, name, opts.domain), name);
        if (opts.output !== 'table') return print(render(c, opts.output, []));
        const lines = [
          `Name:         ${c.name}`,
          `Domain:       ${c.domain}`,
          `Contract ID:  ${formatContractId(c.id)} (${c.id})`,
          `Mode:         ${c.mode}`,
          `Description:  ${c.description}`,
          'Roles:',
        ];
        for (const r of c.roles) {
          lines.push(`  ${r.name}:`);
          lines.push(`    User Access List:  ${r.users.join(', ') || '(none)'}`);
          lines.push(`    Path Params:       ${JSON.stringify(r.pathParams)}`);
        }
        print(lines.join('\n'));
      },
    );
}
