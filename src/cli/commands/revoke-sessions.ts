import type { Command } from 'commander';
import { print } from '../output.js';
import { client } from '../session.js';

/** `trellis revoke-sessions USER [--domain D]`: every token of that user stops working at once. */
export function registerRevokeSessions(program: Command): void {
  program
    .command('revoke-sessions')
    .description(
      'revoke every session of an admin user, or with --domain of a host owner or switch owner (its agents and processors log in again)',
    )
    .argument('<user>', 'the admin user, or with --domain the resource user')
    .option('--domain <domain>', 'domain of a resource user')
    .action(async (user: string, opts: { domain?: string }) => {
      const api = await client();
      const res = await api.revokeSessions(user, opts.domain);
      const who = res.domain ? `${res.domain}/${res.username}` : res.username;
      print(`revoked ${res.revoked} session${res.revoked === 1 ? '' : 's'} of ${who}`);
    });
}
