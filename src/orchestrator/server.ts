import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installOrchestratorMetrics } from '../metrics/orchestrator.js';
import { adminUserRoutes } from './api/admin-users.js';
import { applyRoutes } from './api/apply.js';
import { auditRoutes } from './api/audit.js';
import { contractRoutes } from './api/contracts.js';
import { dataPlaneRoutes } from './api/dataplane.js';
import { domainRoutes } from './api/domains.js';
import { installErrorHandling } from './api/errors.js';
import { eventRoutes } from './api/events.js';
import { healthRoutes } from './api/health.js';
import { linkRoutes } from './api/links.js';
import { loginRoutes } from './api/login.js';
import { nodeRoutes } from './api/nodes.js';
import { pathRoutes } from './api/paths.js';
import { processorRoutes } from './api/processors.js';
import { resourceUserRoutes } from './api/resource-users.js';
import { ticketKeyRoutes } from './api/ticket-keys.js';
import { topologyRoutes } from './api/topology.js';
import { Lockout } from './auth/lockout.js';
import { VerifiedCache } from './auth/verified-cache.js';
import { type BootstrapResult, bootstrap } from './bootstrap.js';
import { installConsole } from './console-assets.js';
import type { Orchestrator } from './context.js';
import { EventHub } from './events.js';
import { loadOrCreateCa } from './pki/ca.js';
import type { Db } from './store/db.js';
import { openStore } from './store/open.js';
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
  const boot = await bootstrap(db, {
    ...(opts.dataDir && { dataDir: opts.dataDir }),
    ...(opts.adminPassword && { adminPassword: opts.adminPassword }),
  });
  const app = Fastify({
    // pino's Logger is Fastify's logger; the cast only bridges their generic parameters.
    loggerInstance: opts.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Event streams never end by themselves: closing must cut them, or shutdown would hang.
    forceCloseConnections: true,
  });
  const dataDir = opts.dataDir ?? '.trellis/orchestrator';
  const events = new EventHub();
  const ticketKeys = await TicketKeyring.load(dataDir);
  const ctx: Orchestrator = {
    db,
    log: opts.logger,
    lockout: new Lockout(),
    verified: new VerifiedCache(),
    fabricPrefix: boot.fabricPrefix,
    tokenTtlMs: opts.tokenTtlMs ?? 12 * 3600_000,
    heartbeatTimeoutMs: opts.heartbeatTimeoutMs ?? 10_000,
    routes: [],
    events,
    ca: await loadOrCreateCa(dataDir),
    ticketKeys,
    ticketTtlSec: opts.ticketTtlSec ?? 3600,
    nodeCertTtlMs: opts.nodeCertTtlMs ?? 7 * 24 * 3600_000,
    signedTickets: new SignedTicketCache(
      (t) => ticketKeys.sign(t),
      undefined,
      () => ticketKeys.generation(),
    ),
    flowTables: new Map(),
    closing: false,
    liveStreams: new Map(),
    async bumpEpoch() {
      const epoch = await db.transaction((sql) => bumpPolicyEpoch(sql));
      events.publish({ type: 'policy', epoch, at: new Date().toISOString() });
      return epoch;
    },
  };
  installErrorHandling(app);
  installOrchestratorMetrics(app, ctx);
  for (const register of [
    healthRoutes,
    loginRoutes,
    domainRoutes,
    adminUserRoutes,
    resourceUserRoutes,
    contractRoutes,
    processorRoutes,
    linkRoutes,
    nodeRoutes,
    topologyRoutes,
    pathRoutes,
    auditRoutes,
    applyRoutes,
    eventRoutes,
    dataPlaneRoutes,
    ticketKeyRoutes,
  ]) {
    register(app, ctx);
  }
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
        for (const n of gone)
          events.publish({
            type: 'node',
            name: n.name,
            kind: n.kind,
            domain: n.domain,
            owner: n.owner,
            status: 'disconnected',
          });
        if (gone.some((n) => n.kind === 'processor')) await ctx.bumpEpoch();
      })
      .catch((err: unknown) => ctx.log.warn({ err }, 'heartbeat sweep failed'));
  }, 2_000);
  sweep.unref();

  return {
    app,
    ctx,
    boot,
    async close() {
      clearInterval(sweep);
      ctx.closing = true;
      await app.close();
      await db.close();
    },
  };
}
