import type { Command } from 'commander';
import { TrellisError } from '../../errors.js';
import { print } from '../output.js';
import { client } from '../session.js';

interface RotateAnswer {
  keyId: string;
  activatesAt: string;
  retires: { keyId: string; at: string }[];
  ticketKeys: { id: string; publicKeyPem: string }[];
}

/** Registers `trellis ca …`: the fabric's keys (the CA and the flow-ticket signing keys). */
export function registerCa(program: Command): void {
  const ca = program.command('ca').description("the fabric's CA and flow-ticket keys");
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
      const r = await api.request<RotateAnswer>('POST', '/api/v1/ca/rotate-ticket-key');
      if (opts.output === 'json') return print(JSON.stringify(r, null, 2));
      print(`new ticket key ${r.keyId}: published to every node now, signs from ${r.activatesAt}`);
      for (const old of r.retires)
        print(`ticket key ${old.keyId} keeps verifying until ${old.at}, then is retired`);
    });
}
