import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import { caFingerprint } from '../../wire/fingerprint.js';
import { print } from '../output.js';
import { client } from '../session.js';

/** Registers `trellis ca …`: the fabric's keys (the CA and the flow-ticket signing keys). */
export function registerCa(program: Command): void {
  const ca = program.command('ca').description("the fabric's CA and flow-ticket keys");
  ca.command('fingerprint')
    .description("print the fabric CA's SHA-256 fingerprint (what --ca-fingerprint pins)")
    .option('--data-dir <dir>', "read it from an orchestrator's data directory instead of asking it")
    .addHelpText(
      'after',
      `
Examples:
  trellis ca fingerprint                                  # of the orchestrator you are logged in to
  trellis ca fingerprint --data-dir /opt/trellis/orchestrator   # on the orchestrator's host`,
    )
    .action(async (opts: { dataDir?: string }) => {
      if (opts.dataDir) {
        const file = join(opts.dataDir, 'ca.crt');
        const pem = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
          throw new TrellisError('TRELLIS_ERR_NOT_FOUND', `${file}: ${err.code}`, {
            hint: 'the orchestrator creates ca.crt in its --data-dir at first start',
          });
        });
        return print(caFingerprint(pem));
      }
      // Over the pinned connection: the answer is checked against the CA the CLI trusts.
      const api = await client();
      print(caFingerprint((await api.ca()).caPem));
    });
  ca.command('rotate-ticket-key')
    .description(
      'publish a new flow-ticket signing key; it signs after a few seconds, and the old one verifies until its tickets expire (systemAdmin)',
    )
    .option('-o, --output <format>', 'text | json', 'text')
    .action(async (opts: { output: string }) => {
      if (opts.output !== 'text' && opts.output !== 'json') {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', `-o ${opts.output} is not text or json`);
      }
      const api = await client();
      const r = await api.rotateTicketKey();
      if (opts.output === 'json') return print(JSON.stringify(r, null, 2));
      print(`new ticket key ${r.keyId}: published to every node now, signs from ${r.activatesAt}`);
      for (const old of r.retires)
        print(`ticket key ${old.keyId} keeps verifying until ${old.at}, then is retired`);
    });
}
