import type { Command } from 'commander';
import { ApiClient } from '../../api-client/client.js';
import { TrellisError } from '../../errors.js';
import { readConfig, writeConfig } from '../config.js';
import { promptSecret, readStdin } from '../prompt.js';

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('log in to an orchestrator and keep the token in $TRELLIS_HOME/config.yaml')
    .option('--orchestrator <url>', 'orchestrator URL (default: $TRELLIS_ORCHESTRATOR or the last one used)')
    .requiredOption('--username <name>', 'admin user name')
    .option('--domain <domain>', 'domain, for a resource user login')
    .option('--password-stdin', 'read the password from standard input')
    .action(
      async (opts: { orchestrator?: string; username: string; domain?: string; passwordStdin?: boolean }) => {
        const url =
          opts.orchestrator || process.env.TRELLIS_ORCHESTRATOR || (await readConfig()).orchestrator;
        if (!url)
          throw new TrellisError('TRELLIS_ERR_VALIDATION', 'no orchestrator URL', {
            hint: 'pass --orchestrator URL',
          });
        if (!opts.passwordStdin && !process.stdin.isTTY) {
          throw new TrellisError('TRELLIS_ERR_VALIDATION', 'no terminal to ask for the password', {
            hint: 'use --password-stdin',
          });
        }
        const password = opts.passwordStdin
          ? await readStdin()
          : await promptSecret(`Password for ${opts.username}: `);
        const res = await new ApiClient(url).login(opts.username, password, opts.domain);
        const file = await writeConfig({
          orchestrator: url,
          token: res.token,
          username: opts.username,
          expiresAt: res.expiresAt,
        });
        process.stdout.write(
          `logged in to ${url} as ${opts.username} (token until ${res.expiresAt}, saved in ${file})\n`,
        );
      },
    );
}
