import type { Command } from 'commander';
import pino from 'pino';
import { parseAdvertise } from '../../node/runtime/addresses.js';
import { REDACT } from '../../orchestrator/log.js';
import { daemonStarting, listenFailure } from '../daemon.js';
import { parseListen } from '../listen.js';
import { addNodeAccessOptions, readNodeAccess } from '../node-access.js';

export function registerProcessor(program: Command): void {
  const cmd = program
    .command('processor')
    .description('run a processor: forwards flows along their tickets, keeps flow tables')
    .requiredOption('--name <name>', 'the processor, as declared in the fabric')
    .requiredOption('--listen <host:port>', 'address for the mTLS HTTP/2 data plane')
    .option(
      '--advertise <host[:port]>',
      'the endpoint it registers and its certificate IP SAN (default: the --listen address; required when that is 0.0.0.0 or ::)',
    )
    .option('--switch-owner <user>', 'the switchOwner resource user it logs in as (with --password-file)')
    .option('--domain <domain>', "the switch owner's domain (if the name is in several)")
    .option('--state-dir <dir>', 'key, certificate and cache', './.trellis/processor')
    .option('--admin-listen <host:port>', 'plain-HTTP GET /metrics (default: 127.0.0.1:9901; off: none)')
    .option('--log-level <level>', 'pino log level', 'info');
  addNodeAccessOptions(cmd, 'switchOwner');
  cmd.action(async (opts) => {
    // Loaded here, not at the top: each process loads only the component it runs.
    daemonStarting();
    const { startProcessor } = await import('../../processor/processor.js');

    const { host, port } = parseListen(opts.listen);
    const advertise = opts.advertise ? parseAdvertise(opts.advertise, port) : undefined;
    const log = pino({ level: opts.logLevel, redact: { paths: REDACT, censor: '[redacted]' } });
    const access = await readNodeAccess(opts, opts.switchOwner, '--switch-owner');
    const p = await startProcessor({
      name: opts.name,
      host,
      port,
      ...(advertise && { advertise }),
      orchestrator: access.orchestrator,
      ...(opts.switchOwner && { switchOwner: opts.switchOwner }),
      ...(opts.domain && { domain: opts.domain }),
      ...(access.password !== undefined && { password: access.password }),
      access: access.access,
      stateDir: opts.stateDir,
      log,
      ...(opts.adminListen && {
        adminListen: opts.adminListen === 'off' ? null : parseListen(opts.adminListen),
      }),
    }).catch((err: unknown) => {
      throw listenFailure(err);
    });
    const stop = async () => {
      await p.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
