import type { Command } from 'commander';
import { parseDuration } from '../../duration.js';
import { TrellisError } from '../../errors.js';
import { print, render } from '../output.js';
import { client } from '../session.js';
import { outputOption } from './get.js';

interface TokenCreateFlags {
  hostowner?: string;
  switchowner?: string;
  domain?: string;
  vm?: string;
  ttl: string;
  uses: string;
  output: 'table' | 'json' | 'yaml';
}

/** `trellis token create`: what a host gets instead of its owner's password. */
export function registerToken(program: Command): void {
  const token = program
    .command('token')
    .description('enrolment tokens: how a new node joins without a password');
  token
    .command('create')
    .description('mint an enrolment token for a host owner (workload node) or switch owner (processor)')
    .option('--hostowner <name>', 'the host owner the node will belong to')
    .option('--switchowner <name>', 'the switch owner, for a processor')
    .option('--domain <domain>', "the owner's domain (if the name is in several)")
    .option('--vm <name>', 'the only node name the token may register')
    .option('--ttl <duration>', 'how long it stays valid', '1h')
    .option('--uses <n>', 'how many nodes may enrol with it', '1')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
The token carries the orchestrator's URL and CA fingerprint: on the host,
  trellis agent --token-file token.txt --vm aws-11 …
needs no password, no --orchestrator and no --ca-fingerprint. List with
\`trellis get tokens\`, revoke with \`trellis delete token ID\`.

Examples:
  trellis token create --hostowner http-proxy --vm aws-11 > aws-11.token
  trellis token create --switchowner fabric-ops --ttl 15m --uses 4 -o json`,
    )
    .action(async (opts: TokenCreateFlags) => {
      if (Boolean(opts.hostowner) === Boolean(opts.switchowner)) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', 'give exactly one of --hostowner and --switchowner');
      }
      const uses = Number(opts.uses);
      if (!Number.isInteger(uses) || uses < 1) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `--uses "${opts.uses}" is not a whole number ≥ 1`);
      }
      const api = await client();
      const res = await api.createToken({
        ...(opts.hostowner && { hostOwner: opts.hostowner }),
        ...(opts.switchowner && { switchOwner: opts.switchowner }),
        ...(opts.domain && { domain: opts.domain }),
        ...(opts.vm && { vm: opts.vm }),
        ttlSec: Math.round(parseDuration(opts.ttl, '--ttl') / 1000),
        uses,
      });
      if (opts.output === 'table') {
        // The token alone on stdout, so `> file` captures exactly it; the rest to stderr.
        process.stdout.write(`${res.token}\n`);
        process.stderr.write(
          `token ${res.id} for ${res.kind} ${res.domain}/${res.owner}${res.vm ? ` (node ${res.vm} only)` : ''}, ${res.maxUses} use(s), until ${res.expiresAt}\n`,
        );
      } else print(render(res, opts.output, []));
    });
}
