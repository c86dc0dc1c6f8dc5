import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import http, { type Server } from 'node:http';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { sendMetrics } from '../metrics/serve.js';
import { poolHealth } from '../node/dataplane/health-metrics.js';
import { SessionPool } from '../node/dataplane/pool.js';
import { advertisedEndpoint, endpointOf, type HostPort } from '../node/runtime/addresses.js';
import type { ControlOptions, NodeIdentity } from '../node/runtime/control.js';
import { DenialReporter } from '../node/runtime/denials.js';
import { startNode } from '../node/runtime/node-start.js';
import { followIdentity, IdentityHolder, startRenewal } from '../node/runtime/renewal.js';
import { TicketKeySet } from '../node/runtime/ticket-keys.js';
import { contractEnvName as envName } from '../workload/env-file.js';
import { type AgentBundle, loadCachedBundle, saveBundle } from './bundle.js';
import { Inbound, type ServeMap } from './inbound.js';
import { AgentMetrics } from './metrics.js';
import { Outbound } from './outbound.js';
import { fromOwnVm } from './own-vm.js';
import { nextRefreshMs } from './refresh-schedule.js';
import { Stats } from './stats.js';

export interface AgentOptions {
  /** The owner's login (the seed's way); omitted when the node enrols with a token. */
  hostOwner?: string;
  domain?: string;
  password?: string;
  /** Enrolment token and orchestrator CA pin (see ControlOptions). */
  access?: Pick<ControlOptions, 'enrolmentToken' | 'trust'>;
  orchestrator: string;
  vm: string;
  address: string;
  processors: string[];
  serve: ServeMap;
  stateDir: string;
  envFile: string;
  inboundPort: number;
  /** Where the inbound mTLS port binds; default: address and inboundPort. */
  listen?: HostPort;
  /** The endpoint it registers (and its certificate's IP SAN); default: address, the listen port. */
  advertise?: HostPort;
  /**
   * Where client listeners and the local API bind, and what the env file and resolver hand out:
   * private to the VM. Default 127.0.0.1; the lab, whose VMs share one loopback, gives each its own.
   */
  clientAddress?: string;
  apiPort: number;
  /** First port tried for client listeners; each contract keeps the port it got. */
  listenBase: number;
  log: Logger;
}

export interface RunningAgent {
  identity: NodeIdentity;
  bundle(): AgentBundle | undefined;
  resolve(name: string): string | undefined;
  close(): Promise<void>;
}

/**
 * The agent of a workload node: logs in as the host owner, registers the VM, keeps its
 * policy bundle (cached on disk), opens a local listener per client contract and delivers
 * inbound flows for the contracts it serves.
 */
export async function startAgent(o: AgentOptions): Promise<RunningAgent> {
  const log = o.log.child({ vm: o.vm });
  const listen = o.listen ?? { host: o.address, port: o.inboundPort };
  const advertised = advertisedEndpoint({
    component: 'agent',
    listen,
    ...(o.advertise && { advertise: o.advertise }),
    fallback: { host: o.address, port: listen.port },
    fallbackFlag: '--address',
  });
  const clientAddress = o.clientAddress ?? '127.0.0.1';
  // A connection from any of these is the VM's own (the listener's address always is).
  const ownAddresses = [...new Set([o.address, advertised.host, clientAddress])];
  const endpoint = endpointOf(advertised);
  const { control, identity, publicKeyPem } = await startNode(
    {
      orchestrator: o.orchestrator,
      ...(o.hostOwner !== undefined && { username: o.hostOwner }),
      ...(o.domain && { domain: o.domain }),
      ...(o.password !== undefined && { password: o.password }),
      ...(o.access && { access: o.access }),
      stateDir: o.stateDir,
      log,
    },
    {
      name: o.vm,
      addresses: [...new Set([advertised.host, o.address])],
      processors: o.processors,
      endpoint,
    },
  );
  const holder = new IdentityHolder(identity);
  const first = holder.current;
  // Refetched through the bundle (which carries ticketKeys) when a ticket names a key we lack.
  const ticketKeys = new TicketKeySet(() => void refresh(), log);
  ticketKeys.update(first.ticketKeys, first.ticketPublicKeyPem);
  const stats = new Stats();
  const metrics = new AgentMetrics(stats);
  const denials = new DenialReporter(control, o.vm, log, (d) => metrics.denied(d));
  // Read at each new connection: a renewed certificate is used from the next one on.
  const pool = new SessionPool(
    () => holder.current,
    poolHealth(metrics.health, log, (r) => control.reportPeerHealth(o.vm, r)),
  );
  const outbound = new Outbound({
    address: clientAddress,
    vm: o.vm,
    ownAddresses,
    registered: [...new Set([advertised.host, o.address])],
    pool,
    denials,
    stats,
    health: metrics.health,
    log,
    refresh: () => refresh(),
  });
  const inbound = new Inbound({
    name: o.vm,
    address: o.address,
    nodeId: () => holder.current.node.nodeId,
    ticketKey: ticketKeys.lookup,
    identity: () => holder.current,
    serve: o.serve,
    refresh: () => refresh(),
    denials,
    stats,
    log,
  });
  const renewal = startRenewal({ control, holder, name: o.vm, publicKeyPem, log });

  const portsFile = join(o.stateDir, 'ports.json');
  const ports = new Map<string, number>(
    Object.entries(JSON.parse(await readFile(portsFile, 'utf8').catch(() => '{}')) as Record<string, number>),
  );
  let bundle: AgentBundle | undefined = await loadCachedBundle(o.stateDir);
  let applying = Promise.resolve();

  /** Gives each client contract a stable port, so env files stay valid across restarts. */
  const assignPorts = (b: AgentBundle) => {
    const used = new Set(ports.values());
    let next = o.listenBase;
    for (const e of b.client) {
      if (ports.has(e.contract) || !e.allowed) continue;
      while (used.has(next)) next++;
      ports.set(e.contract, next);
      used.add(next);
    }
  };

  const apply = async (b: AgentBundle) => {
    bundle = b;
    ticketKeys.update(b.ticketKeys);
    assignPorts(b);
    await writeFile(portsFile, JSON.stringify(Object.fromEntries(ports)));
    await outbound.update(b.client, ports);
    inbound.update(b.server);
    await writeEnvFile();
  };

  // Rewritten only when it changes: every bundle refresh calls this, and a workload (or a
  // systemd EnvironmentFile= reader) should not see the file replaced under it for nothing.
  let envText: string | undefined;
  const writeEnvFile = async () => {
    const lines = outbound
      .contracts()
      .map((c) => `${envName(c)}=${endpointOf({ host: clientAddress, port: outbound.port(c)! })}`);
    const text = `${lines.join('\n')}\n`;
    if (text === envText) return;
    await mkdir(dirname(o.envFile), { recursive: true });
    const tmp = `${o.envFile}.tmp`;
    await writeFile(tmp, text, { mode: 0o600 });
    await rename(tmp, o.envFile);
    envText = text;
  };

  // Coalesced: a refresh asked for while another waits to start is the same refresh.
  let queued = false;
  let fetching = false;
  const refresh = () => {
    if (queued) return applying;
    queued = true;
    applying = applying
      .then(async () => {
        queued = false;
        fetching = true;
        try {
          const b = await control.call((api) => api.nodeBundle(o.vm));
          await saveBundle(o.stateDir, b);
          await apply(b);
        } finally {
          fetching = false;
        }
      })
      .catch((err: unknown) =>
        log.warn({ err: (err as Error).message }, 'bundle refresh failed; keeping the cached one'),
      );
    return applying;
  };

  if (bundle) await apply(bundle);
  await refresh();
  // Only now, with refresh defined and the bundle applied, may flows arrive: a flow accepted
  // earlier called refresh() before its definition (a ReferenceError that ended the agent).
  await inbound.listen(listen.host, listen.port);
  if (inbound.server) followIdentity(holder, inbound.server);

  // A policy change is refetched at once, spread over ~100 ms so a thousand agents do not hit
  // the orchestrator in the same instant; a node of our domain coming or going (a server
  // instance or a client) is less urgent: within ~1 s, coalesced.
  let soon: NodeJS.Timeout | undefined;
  let soonAt = Number.POSITIVE_INFINITY;
  const refreshWithin = (ms: number, then?: () => void) => {
    const at = Date.now() + Math.random() * ms;
    if (soon && at >= soonAt) return;
    if (soon) clearTimeout(soon);
    soonAt = at;
    soon = setTimeout(() => {
      soon = undefined;
      soonAt = Number.POSITIVE_INFINITY;
      void refresh().then(then);
    }, at - Date.now());
  };
  control.events(o.vm, (event, data) => {
    if (event === 'hello') void refresh().then(() => metrics.eventApplied(event, data, bundle?.epoch));
    // A new ticket key: fetch it (with the bundle) before it starts signing, a few seconds on.
    else if (event === 'ticket-keys') refreshWithin(100);
    else if (event === 'policy') {
      // `bundle: unchanged`: the orchestrator worked out that this change leaves our bundle as it
      // is (policy/change-scope.ts), so the one we hold is the bundle of the new epoch — unless
      // a refresh is pending or under way, which will bring a newer one anyway.
      const p = data as { epoch?: unknown; bundle?: unknown };
      const settled = soon === undefined && !queued && !fetching;
      if (p.bundle === 'unchanged' && settled && bundle) {
        if (typeof p.epoch === 'number' && p.epoch > bundle.epoch) bundle = { ...bundle, epoch: p.epoch };
        metrics.eventApplied(event, data, bundle.epoch);
      } else refreshWithin(100, () => metrics.eventApplied(event, data, bundle?.epoch));
    } else if (event === 'node') {
      const n = data as { name?: string; kind?: string; domain?: string; owner?: string };
      // Only a peer's node changes this bundle: in a 1,000-node rollout, refetching on every
      // registration of the domain was most of the orchestrator's load. While a refresh is
      // pending or under way the peers may be changing (a role edit): then every node counts,
      // or a new peer's node registering during the fetch would wait for the periodic refresh.
      const settled = soon === undefined && !queued && !fetching;
      const peer = !settled || !bundle?.peers || n.owner === undefined || bundle.peers.includes(n.owner);
      if (n.kind === 'workload' && n.domain === holder.current.node.domain && n.name !== o.vm && peer)
        refreshWithin(1000);
    }
  });
  control.heartbeat(o.vm);
  // Tickets expire: refresh well before (at half the shortest life left, at most every 5 min),
  // even if no event says anything changed.
  let periodic: NodeJS.Timeout | undefined;
  let closed = false;
  const schedule = () => {
    if (closed) return;
    periodic = setTimeout(() => void refresh().then(schedule), nextRefreshMs(bundle));
    periodic.unref();
  };
  schedule();

  const resolve = (name: string) => {
    const contract = name.split('.')[0]!;
    const port = outbound.port(contract);
    return port === undefined ? undefined : endpointOf({ host: clientAddress, port });
  };
  const api: Server = http.createServer((req, res) => {
    // Unauthenticated, so private to the VM like the client listeners.
    const source = fromOwnVm({
      remote: req.socket.remoteAddress,
      local: req.socket.localAddress,
      own: ownAddresses,
    });
    if (!source.ok) {
      log.warn({ source: source.source }, 'local API: refused a connection from another host');
      res.writeHead(403, { 'content-type': 'application/json', connection: 'close' });
      return res.end(
        JSON.stringify({
          error: {
            code: 'TRELLIS_ERR_FORBIDDEN',
            message: `refused: the local API of VM ${o.vm} serves only its own VM; connection from ${source.source}`,
          },
        }),
      );
    }
    const url = new URL(req.url ?? '/', 'http://agent');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/api/v1/service/resolver') {
      const name = url.searchParams.get('name') ?? '';
      const addr = resolve(name);
      if (!addr)
        return send(404, {
          error: { code: 'TRELLIS_ERR_NOT_FOUND', message: `no local listener for "${name}"` },
        });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(addr);
    }
    if (url.pathname === '/api/v1/service/stat') return send(200, stats.all());
    if (url.pathname === '/metrics') return void sendMetrics(metrics.registry, res);
    if (url.pathname === '/healthz') return send(200, { status: 'ok', epoch: bundle?.epoch ?? null });
    return send(404, {
      error: { code: 'TRELLIS_ERR_NOT_FOUND', message: `no such endpoint: ${url.pathname}` },
    });
  });
  await new Promise<void>((r, j) => {
    api.once('error', j);
    api.listen(o.apiPort, clientAddress, () => r());
  });
  log.info(
    { listen: endpointOf(listen), endpoint, api: endpointOf({ host: clientAddress, port: o.apiPort }) },
    'agent ready',
  );

  return {
    get identity() {
      return holder.current;
    },
    bundle: () => bundle,
    resolve,
    async close() {
      closed = true;
      clearTimeout(periodic);
      renewal.stop();
      control.stop();
      await control.call((a) => a.request('POST', `/api/v1/nodes/${o.vm}/disconnect`)).catch(() => undefined);
      denials.stop();
      await outbound.close();
      await inbound.close();
      pool.close();
      api.close();
    },
  };
}
