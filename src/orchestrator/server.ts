import http from 'node:http';
import https from 'node:https';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { adminUserRoutes } from './api/admin-users.js';
import { applyRoutes } from './api/apply.js';
import { auditRoutes } from './api/audit.js';
import { backupRoutes } from './api/backup.js';
import { beatRoutes } from './api/beats.js';
import { caRoutes } from './api/ca-info.js';
import { contractRoutes } from './api/contracts.js';
import { dataPlaneRoutes } from './api/dataplane.js';
import { domainRoutes } from './api/domains.js';
import { installErrorHandling } from './api/errors.js';
import { eventRoutes } from './api/events.js';
import { healthRoutes } from './api/health.js';
import { healthEventRoutes } from './api/health-events.js';
import { installJsonBody } from './api/json-body.js';
import { linkRoutes } from './api/links.js';
import { loginRoutes } from './api/login.js';
import { nodeAuthRoutes } from './api/node-auth.js';
import { nodeRoutes } from './api/nodes.js';
import { pathRoutes } from './api/paths.js';
import { processorRoutes } from './api/processors.js';
import { resourceUserRoutes } from './api/resource-users.js';
import { sessionRoutes } from './api/sessions.js';
import { ticketKeyRoutes } from './api/ticket-keys.js';
import { tokenRoutes } from './api/tokens.js';
import { topologyRoutes } from './api/topology.js';
import { NodeChallenges } from './auth/challenges.js';
import { Lockout } from './auth/lockout.js';
import { LoginGate } from './auth/login-gate.js';
import { OpenStreams } from './auth/open-streams.js';
import { VerifiedCache } from './auth/verified-cache.js';
import { type BootstrapResult, bootstrap } from './bootstrap.js';
import { installConsole } from './console-assets.js';
import type { Orchestrator } from './context.js';
import { CryptoThread } from './crypto/thread.js';
import { EventHub } from './events.js';
import { checkKeyRecords, expectKeyFiles } from './key-records.js';
import { startLivenessSweep } from './liveness.js';
import { installOrchestratorMetrics } from './metrics.js';
import { nodeStatusChanged } from './node-status.js';
import { type FabricCa, loadOrCreateCa } from './pki/ca.js';
import { issueServerCertificate } from './pki/server-cert.js';
import type { Db } from './store/db.js';
import { checkStoreIntegrity, dataChecksums } from './store/integrity.js';
import { openStore, storeLocation } from './store/open.js';
import { bumpPolicyEpoch } from './store/repos/meta.js';
import { disconnectStale } from './store/repos/nodes.js';
import { TicketKeyring } from './tickets/keyring.js';
import { SignedTicketCache } from './tickets/signed-cache.js';

export interface OrchestratorOptions {
  dataDir?: string;
  databaseUrl?: string;
  adminPassword?: string;
  logger: Logger;
  tokenTtlMs?: number;
  heartbeatTimeoutMs?: number;
  ticketTtlSec?: number;
  /**
   * How to serve HTTPS: `self` issues a server certificate from the fabric CA for these hosts
   * (re-issued before it expires); `own` is the operator's certificate; absent: plain HTTP
   * (the CLI allows that on loopback only).
   */
  tls?: { kind: 'self'; hosts: string[] } | { kind: 'own'; certPem: string; keyPem: string };
  /** Lifetime of node certificates; default 7 days. Nodes renew at 2/3 of it. */
  nodeCertTtlMs?: number;
}

export interface RunningOrchestrator {
  app: FastifyInstance;
  ctx: Orchestrator;
  boot: BootstrapResult;
  close(): Promise<void>;
}

// Requests carry small JSON documents; a fabric file of thousands of contracts still fits.
const BODY_LIMIT = 4 * 1024 * 1024;

/** Opens the store, bootstraps it and builds the HTTP app (not yet listening). */
export async function createOrchestrator(opts: OrchestratorOptions): Promise<RunningOrchestrator> {
  const db: Db = await openStore({
    ...(opts.databaseUrl && { databaseUrl: opts.databaseUrl }),
    ...(opts.dataDir && { dataDir: opts.dataDir }),
  });
  const dataDir = opts.dataDir ?? '.trellis/orchestrator';
  // A damaged store or key file refuses the start, before anything is written (issue 11).
  const opened = await checkedStart(db, dataDir, opts).catch(async (err: unknown) => {
    await db.close().catch(() => undefined);
    throw err;
  });
  const { boot, ca, ticketKeys } = opened;
  const tls = opts.tls && (await tlsServer(ca, opts.tls, opts.logger));
  const app = Fastify({
    serverFactory: (handler) => (tls ? tls.create(handler) : http.createServer(handler)),
    // pino's Logger is Fastify's logger; the cast only bridges their generic parameters.
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Event streams never end by themselves: closing must cut them, or shutdown would hang.
    forceCloseConnections: true,
  });
  const events = new EventHub();
  const ctx: Orchestrator = {
    db,
    log: opts.logger,
    lockout: new Lockout(),
    loginGate: new LoginGate(),
    openStreams: new OpenStreams(),
    verified: new VerifiedCache(),
    challenges: new NodeChallenges(),
    fabricPrefix: boot.fabricPrefix,
    tokenTtlMs: opts.tokenTtlMs ?? 12 * 3600_000,
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 10_000,
    routes: [],
    events,
    ca,
    ticketKeys,
    ticketTtlSec: opts.ticketTtlSec ?? 3600,
    nodeCertTtlMs: opts.nodeCertTtlMs ?? 7 * 24 * 3600_000,
    signedTickets: new SignedTicketCache(
      (t) => ticketKeys.sign(t),
      undefined,
      () => ticketKeys.generation(),
    ),
    // TRELLIS_TICKET_SIGNER=main signs tickets and certificates on the main thread: for measuring the thread's worth side by side (bench:control-plane).
    crypto: new CryptoThread(process.env.TRELLIS_TICKET_SIGNER !== 'main'),
    flowTables: new Map(),
    closing: false,
    liveStreams: new Map(),
    async bumpEpoch() {
      const epoch = await db.transaction((sql) => bumpPolicyEpoch(sql));
      events.publish({ type: 'policy', epoch, at: new Date().toISOString() });
      return epoch;
    },
  };
  installJsonBody(app);
  installErrorHandling(app);
  installOrchestratorMetrics(app, ctx);
  for (const register of [
    healthRoutes,
    caRoutes,
    loginRoutes,
    sessionRoutes,
    domainRoutes,
    adminUserRoutes,
    resourceUserRoutes,
    contractRoutes,
    processorRoutes,
    linkRoutes,
    nodeAuthRoutes,
    nodeRoutes,
    beatRoutes,
    tokenRoutes,
    topologyRoutes,
    pathRoutes,
    auditRoutes,
    applyRoutes,
    eventRoutes,
    healthEventRoutes,
    dataPlaneRoutes,
    ticketKeyRoutes,
  ]) {
    register(app, ctx);
  }
  backupRoutes(app, ctx, dataDir);
  await installConsole(app);

  // Nodes heartbeat every few seconds; one silent for heartbeatTimeoutMs is shown red.
  const sweep = setInterval(() => {
    // A node holding its event stream open is alive (its closing is noticed at once); only
    // nodes without one must heartbeat. Skipping them keeps an overloaded orchestrator, slow to
    // answer heartbeats, from declaring a whole fleet dead.
    disconnectStale(db, new Date(Date.now() - ctx.heartbeatTimeoutMs), [...ctx.liveStreams.keys()])
      .then(async (gone) => {
        if (gone.length === 0) return;
        ctx.log.info({ nodes: gone.map((n) => n.name) }, 'nodes disconnected (no heartbeat)');
        await nodeStatusChanged(ctx, gone, 'disconnected');
      })
      .catch((err: unknown) => ctx.log.warn({ err }, 'heartbeat sweep failed'));
  }, 2_000);
  sweep.unref();
  const stopLiveness = startLivenessSweep(ctx);

  return {
    app,
    ctx,
    boot,
    async close() {
      clearInterval(sweep);
      stopLiveness();
      tls?.stop();
      ctx.closing = true;
      await app.close();
      await ctx.crypto.close();
      // A prune's background write of ticket-keyring.json must not outlive the orchestrator.
      await ctx.ticketKeys.settled();
      await db.close();
    },
  };
}

/**
 * Everything start-up reads before it serves: the store checked against its manifest, the key
 * files against the store's record of them (ticket.key is never regenerated when the store
 * says one existed), then the first-start bootstrap.
 */
async function checkedStart(
  db: Db,
  dataDir: string,
  opts: OrchestratorOptions,
): Promise<{ boot: BootstrapResult; ca: FabricCa; ticketKeys: TicketKeyring }> {
  await checkStoreIntegrity(db, storeLocation(opts, dataDir));
  if (db.kind === 'pglite' && !(await dataChecksums(db))) {
    opts.logger.warn(
      'the store has no data checksums (created before they were enabled): a garbled page is not detected',
    );
  }
  await expectKeyFiles(db, dataDir);
  const boot = await bootstrap(db, {
    ...(opts.dataDir && { dataDir: opts.dataDir }),
    ...(opts.adminPassword && { adminPassword: opts.adminPassword }),
  });
  const ca = await loadOrCreateCa(dataDir);
  const ticketKeys = await TicketKeyring.load(dataDir);
  await checkKeyRecords(db, dataDir, ca, ticketKeys);
  return { boot, ca, ticketKeys };
}

/** 1 hour: how often the self-issued server certificate's age is checked. */
const RENEW_CHECK_MS = 3600_000;

/** The HTTPS server, and for a self-issued certificate the timer that re-issues it at 2/3 of its life. */
async function tlsServer(ca: FabricCa, tls: NonNullable<OrchestratorOptions['tls']>, log: Logger) {
  const first =
    tls.kind === 'own'
      ? { certPem: tls.certPem, keyPem: tls.keyPem, notAfter: undefined }
      : await issueServerCertificate(ca, tls.hosts);
  let server: https.Server | undefined;
  let issuedAt = Date.now();
  let notAfter = first.notAfter?.getTime();
  const timer =
    tls.kind === 'self'
      ? setInterval(() => {
          if (!server || notAfter === undefined || Date.now() < issuedAt + ((notAfter - issuedAt) * 2) / 3)
            return;
          issueServerCertificate(ca, tls.hosts)
            .then((c) => {
              // Established connections keep their session; new handshakes get the new certificate.
              server?.setSecureContext({ cert: c.certPem, key: c.keyPem });
              issuedAt = Date.now();
              notAfter = c.notAfter.getTime();
              log.info({ notAfter: c.notAfter.toISOString() }, 'server certificate re-issued');
            })
            .catch((err: unknown) => log.warn({ err }, 'server certificate re-issue failed'));
        }, RENEW_CHECK_MS)
      : undefined;
  timer?.unref();
  return {
    create(handler: http.RequestListener): https.Server {
      server = https.createServer({ cert: first.certPem, key: first.keyPem, minVersion: 'TLSv1.2' }, handler);
      return server;
    },
    stop: () => clearInterval(timer),
  };
}
