import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createRegistry } from '../metrics/registry.js';
import type { Orchestrator } from './context.js';
import { getMeta } from './store/repos/meta.js';

/** Where the orchestrator serves its metrics: off /api/v1, as Prometheus expects. */
export const METRICS_PATH = '/metrics';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

function loginResult(status: number): 'success' | 'failure' | 'locked-out' | 'invalid' {
  if (status === 200) return 'success';
  if (status === 401) return 'failure';
  if (status === 429) return 'locked-out';
  return 'invalid';
}

/**
 * Counts what the orchestrator does and serves it at GET /metrics. Nothing here touches a
 * handler: registrations and published events come from the event hub (a registration is the
 * only `node … connected` event), logins and requests from one onResponse hook.
 *
 * /metrics is unauthenticated, like linkerd's admin port: Prometheus scrapes it without a
 * login. It serves counters only: route templates, node kinds, event types, status codes,
 * never a user, node or contract name, token or secret. Bind the orchestrator (or filter the
 * path at a proxy) so that only the monitoring network reaches it if even counts are private.
 *
 * Call before routes are registered, so that the hook sees every route.
 */
export function installOrchestratorMetrics(app: FastifyInstance, ctx: Orchestrator): Registry {
  const registry = createRegistry('orchestrator');
  const registers = [registry];
  const registrations = new Counter({
    name: 'trellis_registrations_total',
    help: 'Node registrations (first and repeated), by node kind',
    labelNames: ['kind'],
    registers,
  });
  const logins = new Counter({
    name: 'trellis_logins_total',
    help: 'Login attempts, by result (success, failure, locked-out, invalid)',
    labelNames: ['result'],
    registers,
  });
  const published = new Counter({
    name: 'trellis_events_published_total',
    help: 'Events published, by type (policy, node, ticket-keys, peer-health, denial, flows)',
    labelNames: ['type'],
    registers,
  });
  const requests = new Counter({
    name: 'trellis_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  new Gauge({
    name: 'trellis_event_subscribers',
    help: 'Open event streams (agents, processors, consoles)',
    registers,
    collect() {
      this.set(ctx.events.subscribers);
    },
  });
  let epoch: number | undefined;
  new Gauge({
    name: 'trellis_policy_epoch',
    help: 'The current policy epoch',
    registers,
    async collect() {
      // The store is the truth (another orchestrator on the same database may have bumped it).
      epoch = (await getMeta<number>(ctx.db, 'policyEpoch').catch(() => epoch)) ?? epoch ?? 0;
      this.set(epoch);
    },
  });

  // A tap: every event counts, the on-request kinds too, and this is no subscriber.
  ctx.events.tap((e) => {
    published.inc({ type: e.type });
    if (e.type === 'policy') epoch = e.epoch;
    if (e.type === 'node' && e.status === 'connected') registrations.inc({ kind: e.kind });
  });

  app.addHook('onResponse', async (req, reply) => {
    // The template, never the URL: /api/v1/nodes/:name, not one series per node.
    const route = req.routeOptions.url ?? 'unmatched';
    const method = METHODS.has(req.method) ? req.method : 'OTHER';
    requests.inc({ method, route, status: String(reply.statusCode) });
    if (route === '/api/v1/login' && method === 'POST') logins.inc({ result: loginResult(reply.statusCode) });
  });

  app.get(METRICS_PATH, async (_req, reply) => {
    const body = await registry.metrics();
    return reply.header('cache-control', 'no-store').type(registry.contentType).send(body);
  });
  return registry;
}
