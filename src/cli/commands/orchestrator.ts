import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../../duration.js';
import { TrellisError } from '../../errors.js';
import { orchestratorLogger } from '../../orchestrator/log.js';
import { parseListen } from '../listen.js';

interface OrchestratorFlags {
  listen: string;
  dataDir: string;
  logLevel: string;
  nodeCertTtl?: string;
  ticketTtl?: string;
}

/**
 * The node certificate and ticket lifetimes: the flag wins over the environment, so a lab
 * started with TRELLIS_NODE_CERT_TTL=90s can still be overridden per run. Tickets are whole
 * seconds on the wire, so a ticket TTL under a second is refused.
 */
export function lifetimes(
  flags: { nodeCertTtl?: string; ticketTtl?: string },
  env: NodeJS.ProcessEnv,
): { nodeCertTtlMs?: number; ticketTtlSec?: number } {
  const cert = flags.nodeCertTtl ?? env.TRELLIS_NODE_CERT_TTL;
  const ticket = flags.ticketTtl ?? env.TRELLIS_TICKET_TTL;
  const certWhat = flags.nodeCertTtl !== undefined ? '--node-cert-ttl' : 'TRELLIS_NODE_CERT_TTL';
  const ticketWhat = flags.ticketTtl !== undefined ? '--ticket-ttl' : 'TRELLIS_TICKET_TTL';
  const out: { nodeCertTtlMs?: number; ticketTtlSec?: number } = {};
  if (cert !== undefined && cert !== '') out.nodeCertTtlMs = parseDuration(cert, certWhat);
  if (ticket !== undefined && ticket !== '') {
    const sec = Math.floor(parseDuration(ticket, ticketWhat) / 1000);
    if (sec < 1) {
      throw new TrellisError('TRELLIS_ERR_VALIDATION', `${ticketWhat} "${ticket}" is under a second`, {
        hint: 'tickets carry whole seconds; e.g. 120s',
      });
    }
    out.ticketTtlSec = sec;
  }
  return out;
}

export function registerOrchestrator(program: Command): void {
  program
    .command('orchestrator')
    .description('run the orchestrator: REST API, store, identity, policy, paths')
    .requiredOption('--listen <host:port>', 'address to listen on', '127.0.0.1:7420')
    .option(
      '--data-dir <dir>',
      'data directory (embedded PGlite store, admin-password)',
      './.trellis/orchestrator',
    )
    .option('--log-level <level>', 'pino log level', 'info')
    .option(
      '--node-cert-ttl <duration>',
      'lifetime of node certificates (env TRELLIS_NODE_CERT_TTL; default 7d); nodes renew at 2/3',
    )
    .option('--ticket-ttl <duration>', 'lifetime of flow tickets (env TRELLIS_TICKET_TTL; default 1h)')
    .action(async (opts: OrchestratorFlags) => {
      // Loaded here, not at the top: each process loads only the component it runs.
      const { createOrchestrator } = await import('../../orchestrator/server.js');

      const { host, port } = parseListen(opts.listen);
      const ttls = lifetimes(opts, process.env);
      const logger = orchestratorLogger(opts.logLevel);
      const databaseUrl = process.env.DATABASE_URL;
      const orch = await createOrchestrator({
        dataDir: opts.dataDir,
        ...(databaseUrl && { databaseUrl }),
        ...(process.env.TRELLIS_ADMIN_PASSWORD && { adminPassword: process.env.TRELLIS_ADMIN_PASSWORD }),
        logger,
        ...ttls,
      });
      // A fleet reconnecting at once overflows the default backlog (511): see docs/benchmarks.md.
      const url = await orch.app.listen({ host, port, backlog: 4096 });
      const store = databaseUrl ? 'postgres (DATABASE_URL)' : `pglite in ${opts.dataDir}`;
      process.stderr.write(`trellis orchestrator listening on ${url} (store: ${store})\n`);
      if (ttls.nodeCertTtlMs !== undefined || ttls.ticketTtlSec !== undefined) {
        process.stderr.write(
          `node certificates last ${formatDuration(orch.ctx.nodeCertTtlMs)}, flow tickets ${formatDuration(orch.ctx.ticketTtlSec * 1000)}\n`,
        );
      }
      if (orch.boot.adminPasswordFile) {
        process.stderr.write(
          `created systemAdmin "admin"; its password is in ${orch.boot.adminPasswordFile}\n`,
        );
      } else if (orch.boot.adminCreated) {
        process.stderr.write('created systemAdmin "admin" with the password from TRELLIS_ADMIN_PASSWORD\n');
      }
      const stop = async () => {
        await orch.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
