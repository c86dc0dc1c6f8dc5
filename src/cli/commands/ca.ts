import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import { caFingerprint } from '../../wire/fingerprint.js';
import { client } from '../session.js';

/** `trellis ca …`: the fabric CA that clients pin and nodes trust. */
export function registerCa(program: Command): void {
  const ca = program.command('ca').description('the fabric CA: its fingerprint, the ticket signing key');
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
        process.stdout.write(`${caFingerprint(pem)}\n`);
        return;
      }
      // Over the pinned connection: the answer is checked against the CA the CLI trusts.
      const api = await client();
      const { caPem } = await api.ca();
      process.stdout.write(`${caFingerprint(caPem)}\n`);
    });
}
