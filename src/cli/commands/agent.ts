import type { Command } from 'commander';
import pino from 'pino';
import type { ServeMap } from '../../agent/inbound.js';
import { TrellisError } from '../../errors.js';
import { parseAdvertise } from '../../node/runtime/addresses.js';
import { REDACT } from '../../orchestrator/log.js';
import { daemonStarting, listenFailure } from '../daemon.js';
import { parseListen } from '../listen.js';
import { addNodeAccessOptions, readNodeAccess } from '../node-access.js';

function parseServe(values: string[]): ServeMap {
  const m: ServeMap = new Map();
  for (const v of values) {
    const match = /^([a-z0-9-]+)=(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(v);
    if (!match) throw new TrellisError('TRELLIS_ERR_VALIDATION', `--serve "${v}" is not CONTRACT=HOST:PORT`);
    m.set(match[1]!, { host: match[2]!.replace(/^\[|\]$/g, ''), port: Number(match[3]) });
  }
  return m;
}

export function registerAgent(program: Command): void {
  const cmd = program
    .command('agent')
    .description('run the agent of a workload node: attaches the workload to the fabric')
    .option('--hostowner <user>', 'the hostOwner resource user it logs in as (with --password-file)')
    .requiredOption('--vm <name>', 'the workload node (VM) name')
    .requiredOption('--address <ip>', "the VM's address: what it registers unless --advertise says otherwise")
    .option(
      '--listen <host:port>',
      'where the inbound mTLS port binds (default: --address and --inbound-port)',
    )
    .option('--advertise <host[:port]>', 'the endpoint it registers (default: --address, the --listen port)')
    .option(
      '--client-address <ip>',
      'where client listeners and the local API bind, private to the VM (the env file and resolver hand it out)',
      '127.0.0.1',
    )
    .requiredOption('--processors <p1[,p2]>', 'processors this VM attaches to, preferred first')
    .option(
      '--serve <contract=host:port>',
      'deliver inbound flows of a server-role contract here (repeatable)',
      (v, acc: string[]) => [...acc, v],
      [],
    )
    .option('--domain <domain>', "the host owner's domain (if the name is in several)")
    .option('--state-dir <dir>', 'key, certificate, bundle cache', './.trellis/agent')
    .option(
      '--env-path <file>',
      'where to write CONTRACT_ADDR=host:port lines',
      './.trellis/agent/fabric.env',
    )
    .option('--inbound-port <port>', 'mTLS port for inbound flows', '7443')
    .option('--api-port <port>', 'local API (resolver, stat)', '7401')
    .option('--listen-base <port>', 'first port for client listeners', '9000')
    .option('--log-level <level>', 'pino log level', 'info');
  addNodeAccessOptions(cmd, 'hostOwner');
  cmd.action(async (opts) => {
    // Loaded here, not at the top: each process loads only the component it runs.
    daemonStarting();
    const { startAgent } = await import('../../agent/agent.js');

    const listen = opts.listen ? parseListen(opts.listen) : undefined;
    const advertise = opts.advertise
      ? parseAdvertise(opts.advertise, listen?.port ?? Number(opts.inboundPort))
      : undefined;
    const log = pino({ level: opts.logLevel, redact: { paths: REDACT, censor: '[redacted]' } });
    const access = await readNodeAccess(opts, opts.hostowner, '--hostowner');
    const a = await startAgent({
      ...(opts.hostowner && { hostOwner: opts.hostowner }),
      ...(opts.domain && { domain: opts.domain }),
      ...(access.password !== undefined && { password: access.password }),
      access: access.access,
      orchestrator: access.orchestrator,
      vm: opts.vm,
      address: opts.address,
      processors: String(opts.processors)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      serve: parseServe(opts.serve),
      stateDir: opts.stateDir,
      envFile: opts.envPath,
      inboundPort: Number(opts.inboundPort),
      ...(listen && { listen }),
      ...(advertise && { advertise }),
      clientAddress: opts.clientAddress,
      apiPort: Number(opts.apiPort),
      listenBase: Number(opts.listenBase),
      log,
    }).catch((err: unknown) => {
      throw listenFailure(err);
    });
    const stop = async () => {
      await a.close();
      process.exit(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
