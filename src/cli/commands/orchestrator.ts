import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../../duration.js';
import { TrellisError } from '../../errors.js';
import { orchestratorLogger } from '../../orchestrator/log.js';
import { caFingerprint } from '../../wire/fingerprint.js';
import { daemonStarting, listenFailure } from '../daemon.js';
import { parseListen } from '../listen.js';

interface OrchestratorFlags {
  listen: string;
  advertise?: string;
  tlsCert?: string;
  tlsKey?: string;
  plainHttp?: boolean;
  dataDir: string;
  logLevel: string;
  nodeCertTtl?: string;
  ticketTtl?: string;
  restore?: string;
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
      '--advertise <host[,host…]>',
      'names and addresses clients use to reach it (needed with a wildcard --listen); the self-issued HTTPS certificate covers each',
    )
    .option(
      '--tls-cert <file>',
      'serve HTTPS with this certificate (PEM, chain after the leaf) instead of one from the fabric CA',
    )
    .option('--tls-key <file>', 'the private key of --tls-cert')
    .option('--plain-http', 'serve plain HTTP instead of HTTPS (refused unless --listen is loopback)')
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
    .option(
      '--restore <file>',
      'restore a `trellis backup` file into --data-dir (which must be empty; with DATABASE_URL, an empty database) and exit',
    )
    .addHelpText(
      'after',
      `
Examples:
  trellis orchestrator                                   # https://127.0.0.1:7420, certificate from the fabric CA
  trellis orchestrator --listen 0.0.0.0:7420 --advertise orch.example.com,203.0.113.10
  trellis orchestrator --listen 127.0.0.1:7420 --plain-http   # development only`,
    )
    .action(async (opts: OrchestratorFlags) => {
      // Loaded here, not at the top: each process loads only the component it runs.
      daemonStarting();
      if (opts.restore) return restore(opts.restore, opts.dataDir);
      const { createOrchestrator } = await import('../../orchestrator/server.js');
      const { orchestratorUrl, planListen } = await import('../../orchestrator/listen-plan.js');

      const { host, port } = parseListen(opts.listen);
      if (Boolean(opts.tlsCert) !== Boolean(opts.tlsKey)) {
        throw new TrellisError('TRELLIS_ERR_VALIDATION', '--tls-cert and --tls-key go together');
      }
      const advertise = (opts.advertise ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      // Every refusal (plain HTTP off loopback, wildcard without --advertise) before the store opens.
      const plan = planListen({
        host,
        port,
        advertise,
        plainHttp: Boolean(opts.plainHttp),
        ownCertificate: Boolean(opts.tlsCert),
      });
      const tls =
        plan.protocol === 'http'
          ? undefined
          : opts.tlsCert && opts.tlsKey
            ? {
                kind: 'own' as const,
                certPem: await readPem(opts.tlsCert, '--tls-cert'),
                keyPem: await readPem(opts.tlsKey, '--tls-key'),
              }
            : { kind: 'self' as const, hosts: plan.certificateHosts };
      await (await import('../../node/runtime/private-files.js')).makeDirPrivate(opts.dataDir);
      const ttls = lifetimes(opts, process.env);
      const logger = orchestratorLogger(opts.logLevel);
      const databaseUrl = process.env.DATABASE_URL;
      const orch = await createOrchestrator({
        dataDir: opts.dataDir,
        ...(databaseUrl && { databaseUrl }),
        ...(process.env.TRELLIS_ADMIN_PASSWORD && { adminPassword: process.env.TRELLIS_ADMIN_PASSWORD }),
        ...(tls && { tls }),
        logger,
        ...ttls,
      });
      // A fleet reconnecting at once overflows the default backlog (511): see docs/benchmarks.md.
      const bound = await orch.app.listen({ host, port, backlog: 4096 }).catch((err: unknown) => {
        throw listenFailure(err);
      });
      const actualPort = Number(new URL(bound).port) || port;
      const url = orchestratorUrl(plan, actualPort);
      orch.ctx.publicUrl = url;
      const store = databaseUrl ? 'postgres (DATABASE_URL)' : `pglite in ${opts.dataDir}`;
      process.stderr.write(`trellis orchestrator listening on ${url} (store: ${store})\n`);
      // Clients pin this (trellis login --ca-fingerprint …); it is the fabric CA's, so it stays
      // the same across restarts and server-certificate re-issues.
      process.stderr.write(`ca fingerprint: ${caFingerprint(orch.ctx.ca.certPem)}\n`);
      if (plan.protocol === 'http') {
        process.stderr.write('warning: plain HTTP: fine on loopback for development, never across hosts\n');
      }
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

/** `--restore FILE`: into an empty data dir (and database), then exit; a normal start serves it. */
async function restore(file: string, dataDir: string): Promise<void> {
  const { restoreBackup } = await import('../../orchestrator/backup/restore.js');
  const databaseUrl = process.env.DATABASE_URL;
  const r = await restoreBackup(file, { dataDir, ...(databaseUrl && { databaseUrl }) });
  const c = r.counts;
  process.stderr.write(
    `restored ${file} into ${r.store}: ${c.domains ?? 0} domains, ${c.contracts ?? 0} contracts, ${c.nodes ?? 0} nodes, ${c.processors ?? 0} processors\n`,
  );
  process.stderr.write(`start it with: trellis orchestrator --data-dir ${dataDir} …\n`);
}

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `${flag} ${file}: ${(err as NodeJS.ErrnoException).code}`,
    );
  }
}
