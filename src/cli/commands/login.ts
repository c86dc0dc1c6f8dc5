import type { Command } from 'commander';
import { ApiClient } from '../../api-client/client.js';
import { pinnedFetch, resolveTrust } from '../../api-client/trust.js';
import { TrellisError } from '../../errors.js';
import { readConfig, writeConfig } from '../../home/config.js';
import { caFingerprint } from '../../wire/fingerprint.js';
import { promptSecret, readStdin } from '../prompt.js';

interface LoginFlags {
  orchestrator?: string;
  username: string;
  domain?: string;
  passwordStdin?: boolean;
  caFingerprint?: string;
  caFile?: string;
}

export function registerLogin(program: Command): void {
  program
    .command('login')
    .description('log in to an orchestrator and keep the token in $TRELLIS_HOME/config.yaml')
    .option('--orchestrator <url>', 'orchestrator URL (default: $TRELLIS_ORCHESTRATOR or the last one used)')
    .requiredOption('--username <name>', 'admin user name')
    .option('--domain <domain>', 'domain, for a resource user login')
    .option('--password-stdin', 'read the password from standard input')
    .option(
      '--ca-fingerprint <sha256:hex>',
      "pin the orchestrator's CA (printed at its start as `ca fingerprint:`)",
    )
    .option('--ca-file <file>', "trust this CA certificate (PEM) for the orchestrator's HTTPS")
    .addHelpText(
      'after',
      `
The pin is kept in config.yaml for that orchestrator URL: later commands verify every
connection against it, and a login to the same URL without a flag reuses it.

Examples:
  trellis login --orchestrator https://orch.example.com:7420 --ca-fingerprint sha256:3f… --username admin
  trellis login --username admin --password-stdin < admin-password`,
    )
    .action(async (opts: LoginFlags) => {
      const cfg = await readConfig();
      const url = opts.orchestrator || process.env.TRELLIS_ORCHESTRATOR || cfg.orchestrator;
      if (!url)
        throw new TrellisError('TRELLIS_ERR_VALIDATION', 'no orchestrator URL', {
          hint: 'pass --orchestrator URL',
        });
      if (!opts.passwordStdin && !process.stdin.isTTY) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', 'no terminal to ask for the password', {
          hint: 'use --password-stdin',
        });
      }
      // Pin first: no password leaves this machine before the orchestrator proved who it is.
      const given = opts.caFingerprint || opts.caFile;
      const trust = given
        ? await resolveTrust(url, {
            ...(opts.caFingerprint && { fingerprint: opts.caFingerprint }),
            ...(opts.caFile && { caFile: opts.caFile }),
          })
        : cfg.pins?.[url]
          ? { caPem: cfg.pins[url].caPem }
          : {};
      const password = opts.passwordStdin
        ? await readStdin()
        : await promptSecret(`Password for ${opts.username}: `);
      const res = await new ApiClient(url, undefined, pinnedFetch(trust)).login(
        opts.username,
        password,
        opts.domain,
      );
      const pins = { ...cfg.pins };
      if (trust.caPem) pins[url] = { fingerprint: caFingerprint(trust.caPem), caPem: trust.caPem };
      const file = await writeConfig({
        orchestrator: url,
        token: res.token,
        username: opts.username,
        expiresAt: res.expiresAt,
        ...(Object.keys(pins).length > 0 && { pins }),
      });
      process.stdout.write(
        `logged in to ${url} as ${opts.username} (token until ${res.expiresAt}, saved in ${file})\n`,
      );
    });
}
