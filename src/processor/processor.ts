import type http2 from 'node:http2';
import type { ServerHttp2Stream } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { type DenyCode, parseDenyCode } from '../deny-codes.js';
import { listenMetrics } from '../metrics/serve.js';
import { Name } from '../model/index.js';
import { watchFirstByte } from '../node/dataplane/first-byte.js';
import { parseFlowLabel } from '../node/dataplane/flow-label.js';
import { createFlowServer, refuseFlow } from '../node/dataplane/flow-server.js';
import { H } from '../node/dataplane/headers.js';
import { poolHealth } from '../node/dataplane/health-metrics.js';
import { PeerEjectedError, SessionPool } from '../node/dataplane/pool.js';
import { certificateAddresses, checkFirstHopSource, parseSource } from '../node/dataplane/source.js';
import { countInto, splice } from '../node/dataplane/splice.js';
import { TicketCache } from '../node/dataplane/ticket-cache.js';
import { type PeerIdentity, peerIdentity } from '../node/identity/peer-identity.js';
import { advertisedEndpoint, endpointOf, type HostPort } from '../node/runtime/addresses.js';
import type { ControlOptions } from '../node/runtime/control.js';
import { DenialReporter } from '../node/runtime/denials.js';
import { startNode } from '../node/runtime/node-start.js';
import { followIdentity, IdentityHolder, startRenewal } from '../node/runtime/renewal.js';
import { TicketKeySet } from '../node/runtime/ticket-keys.js';
import { type FlowEntry, FlowTable } from './flow-table.js';
import { DEFAULT_ADMIN_PORT, ProcessorMetrics } from './metrics.js';
import { verifyHop } from './verify.js';

export interface ProcessorOptions {
  name: string;
  host: string;
  port: number;
  orchestrator: string;
  /** The owner's login (the seed's way); omitted when the node enrols with a token. */
  switchOwner?: string;
  domain?: string;
  password?: string;
  /** Enrolment token and orchestrator CA pin (see ControlOptions). */
  access?: Pick<ControlOptions, 'enrolmentToken' | 'trust'>;
  stateDir: string;
  log: Logger;
  /** The endpoint it registers and its certificate's IP SAN; default: host and port. */
  advertise?: HostPort;
  /** Plain-HTTP listener for GET /metrics; default: loopback, 127.0.0.1:9901; null: none. */
  adminListen?: { host: string; port: number } | null;
}

export interface RunningProcessor {
  flows: FlowTable;
  close(): Promise<void>;
}

/**
 * A processor: an mTLS HTTP/2 server whose CONNECT streams are flows. Each flow is checked
 * (verifyHop) and forwarded as a stream on a pooled connection to the next hop of its ticket.
 */
export async function startProcessor(o: ProcessorOptions): Promise<RunningProcessor> {
  const log = o.log.child({ processor: o.name });
  // Checked before anything else: a wildcard listen must not register a wildcard endpoint.
  const advertised = advertisedEndpoint({
    component: 'processor',
    listen: { host: o.host, port: o.port },
    ...(o.advertise && { advertise: o.advertise }),
  });
  const endpoint = endpointOf(advertised);
  const { control, identity, publicKeyPem } = await startNode(
    {
      orchestrator: o.orchestrator,
      ...(o.switchOwner !== undefined && { username: o.switchOwner }),
      ...(o.domain && { domain: o.domain }),
      ...(o.password !== undefined && { password: o.password }),
      ...(o.access && { access: o.access }),
      stateDir: o.stateDir,
      log,
    },
    { name: o.name, addresses: [advertised.host], processors: [], endpoint },
  );
  const holder = new IdentityHolder(identity);
  // Refetched with the policy (which carries ticketKeys) when a ticket names a key we lack.
  const ticketKeys = new TicketKeySet(() => void refreshPolicy().catch(() => undefined), log);
  ticketKeys.update(identity.ticketKeys, identity.ticketPublicKeyPem);
  const tickets = new TicketCache(ticketKeys.lookup);
  let contractEpochs: Record<number, number> = {};
  const refreshPolicy = async () => {
    const p = await control.call((api) => api.processorPolicy(o.name));
    contractEpochs = p.contractEpochs;
    ticketKeys.update(p.ticketKeys);
  };
  await refreshPolicy().catch((err: unknown) =>
    log.warn({ err: (err as Error).message }, 'policy fetch failed'),
  );

  const flows = new FlowTable();
  // Read at each new connection: a renewed certificate is used from the next one on.
  const metrics = new ProcessorMetrics();
  const pool = new SessionPool(
    () => holder.current,
    poolHealth(metrics.health, log, (r) => control.reportPeerHealth(o.name, r)),
  );
  const denials = new DenialReporter(control, o.name, log);

  const { server, sessions } = createFlowServer(
    identity,
    (stream, headers) => handle(stream, headers),
    (stream, err) => {
      log.warn({ err: (err as Error).message }, 'stream handling failed');
      stream.destroy();
    },
  );

  /** `relayed`: a later hop's refusal passed back, counted there rather than here. */
  const countBytes = (e: FlowEntry, bytes: number) => metrics.flowBytes(e.contractId, bytes);
  const folding = setInterval(() => flows.fold(countBytes), 500);
  folding.unref();

  /** A session's peer certificate never changes: read its identity once, not per flow. */
  const peers = new WeakMap<http2.Http2Session, PeerIdentity | null>();
  const peerOf = (session: http2.Http2Session): PeerIdentity | null => {
    let p = peers.get(session);
    if (p === undefined) {
      const socket = session.socket as TLSSocket | undefined;
      p = socket ? peerIdentity(socket.getPeerCertificate()) : null;
      peers.set(session, p);
    }
    return p;
  };
  /** The client node's registered addresses, from its certificate: what a first hop's source may be. */
  const addresses = new WeakMap<http2.Http2Session, string[]>();
  const addressesOf = (session: http2.Http2Session | undefined): string[] => {
    if (!session) return [];
    let a = addresses.get(session);
    if (a === undefined) {
      a = certificateAddresses((session.socket as TLSSocket | undefined)?.getPeerCertificate());
      addresses.set(session, a);
    }
    return a;
  };

  /** `unreachable`: the node that did not answer, passed back so the client agent skips it. */
  function refuse(
    stream: ServerHttp2Stream,
    status: number,
    code: DenyCode,
    reason: string,
    relayed = false,
    unreachable?: string,
  ): void {
    if (!relayed && !stream.destroyed && !stream.headersSent) metrics.denied(code);
    refuseFlow(stream, status, code, reason, unreachable);
  }

  function handle(stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    if (headers[':method'] !== 'CONNECT')
      return refuse(
        stream,
        405,
        'TRELLIS_DENY_NOT_CONNECT',
        'refused: processors carry CONNECT streams only',
      );
    const peer = stream.session ? peerOf(stream.session) : null;
    const v = verifyHop({
      token: headers[H.ticket] as string | undefined,
      hopHeader: headers[H.hop] as string | undefined,
      me: o.name,
      peer,
      verify: (token, now) => tickets.verify(token, now),
      contractEpochs,
    });
    if (!v.ok) {
      log.info({ reason: v.reason }, 'flow refused');
      if (v.ticket && !v.stale) {
        denials.report({
          kind: 'deny',
          domain: v.ticket.domain,
          contract: v.ticket.contract,
          contractId: v.ticket.contractId,
          role: 'client',
          src: v.ticket.src,
          dst: v.ticket.dst,
          code: v.code,
          reason: v.reason,
        });
      }
      // 412: the agent's bundle is behind a policy change; it refreshes and retries once.
      return refuse(stream, v.stale ? 412 : 403, v.code, v.reason);
    }
    const t = v.ticket;
    // The source the server's workload will be told: checked against the client's certificate at
    // the first hop, parsed (never passed through as sent) at every hop.
    const source =
      v.hop === 0
        ? checkFirstHopSource(headers[H.source], t.src, addressesOf(stream.session))
        : parseSource(headers[H.source]);
    if (!source.ok) {
      const reason =
        v.hop === 0 ? source.reason : `refused: ${source.reason} (from ${peer?.name ?? 'a peer'})`;
      log.info({ reason }, 'flow refused');
      denials.report({
        kind: 'deny',
        domain: t.domain,
        contract: t.contract,
        contractId: t.contractId,
        role: 'client',
        src: t.src,
        dst: t.dst,
        code: 'TRELLIS_DENY_BAD_SOURCE',
        reason,
      });
      return refuse(stream, 403, 'TRELLIS_DENY_BAD_SOURCE', reason);
    }
    const last = v.hop === t.path.length - 1;
    const next = last
      ? { endpoint: t.dstEndpoint, expect: { kind: 'workload' as const, name: t.dst }, port: t.dst }
      : {
          endpoint: t.path[v.hop + 1]!.endpoint,
          expect: { kind: 'processor' as const, name: t.path[v.hop + 1]!.name },
          port: t.path[v.hop + 1]!.name,
        };
    const inPort = v.hop === 0 ? t.src : t.path[v.hop - 1]!.name;
    const label = parseFlowLabel(headers[H.flowLabel]);
    if (!label.ok) {
      const reason = `refused: ${label.reason} (from ${peer?.name ?? 'a peer'})`;
      log.info({ reason }, 'flow refused');
      return refuse(stream, 403, 'TRELLIS_DENY_BAD_FLOW_LABEL', reason);
    }
    const flowLabel = label.value;
    let upstream: http2.ClientHttp2Stream;
    let session: http2.ClientHttp2Session;
    try {
      session = pool.get(next.endpoint, next.expect);
      upstream = session.request({
        ':method': 'CONNECT',
        ':authority': t.dst,
        [H.ticket]: headers[H.ticket] as string,
        [H.hop]: String(v.hop + 1),
        [H.flowLabel]: String(flowLabel),
        [H.source]: source.value,
      });
    } catch (err) {
      // An ejected next hop (it missed its PING) is refused at once: the agent fails over now.
      if (err instanceof PeerEjectedError) metrics.health.failover(next.port, 'ejected');
      const msg = `refused: next hop ${next.port} unreachable (${(err as Error).message})`;
      return refuse(stream, 502, 'TRELLIS_DENY_NEXT_HOP_UNREACHABLE', msg, false, next.port);
    }
    // A next hop that accepted the stream but never answers (hung) must not hold the flow: it
    // is turned back at once, naming the hung node, so the client agent fails over.
    const cancelWatch = watchFirstByte({
      pool,
      session,
      nodesBeyondNext: last ? 0 : t.path.length - v.hop - 1,
      hung: () => {
        metrics.health.failover(next.port, 'first-byte-timeout');
        log.warn({ next: next.port }, 'next hop does not answer PING: flow turned back');
        upstream.destroy();
        refuse(
          stream,
          504,
          'TRELLIS_DENY_NEXT_HOP_UNREACHABLE',
          `refused: next hop ${next.port} does not answer`,
          false,
          next.port,
        );
      },
      slow: () => {
        log.warn({ next: next.port }, 'no answer from beyond the next hop: flow turned back');
        upstream.destroy();
        refuse(stream, 504, 'TRELLIS_DENY_PATH_TIMEOUT', `refused: no answer through ${next.port} in time`);
      },
    });
    upstream.once('close', cancelWatch);
    upstream.on('error', (err) => {
      cancelWatch();
      // Its session was ejected under it (missed PING): name the hop so the agent skips it.
      const gone = pool.isEjected(next.endpoint) ? next.port : undefined;
      refuse(
        stream,
        502,
        'TRELLIS_DENY_NEXT_HOP_UNREACHABLE',
        `refused: next hop ${next.port} failed (${err.message})`,
        false,
        gone,
      );
    });
    // What the next hop answers is a peer's too: a surprise in it ends this flow, not the processor.
    upstream.on('response', (h) => {
      cancelWatch();
      try {
        answered(h);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'flow failed on the answer of the next hop');
        upstream.destroy();
        stream.destroy();
      }
    });
    function answered(h: http2.IncomingHttpHeaders): void {
      // The hop before us gave up first (its watchdog): nothing is waiting for this answer.
      if (stream.destroyed) return void upstream.destroy();
      const status = Number(h[':status']);
      if (status !== 200) {
        const named = h[H.unreachable];
        const unreachable = typeof named === 'string' && Name.safeParse(named).success ? named : undefined;
        // The later hop's code passes back only as a catalogue code (parseDenyCode): a peer's
        // header value is never relayed as it came.
        refuse(
          stream,
          status,
          parseDenyCode(h[H.denyCode]),
          String(h[H.reason] ?? `refused by ${next.port} (${status})`),
          true,
          unreachable,
        );
        upstream.destroy();
        return;
      }
      stream.respond({ ':status': 200 });
      const entry = flows.open({
        srcNodeId: t.srcNodeId,
        dstNodeId: t.dstNodeId,
        contractId: t.contractId,
        flowLabel,
        inPort,
        outPort: next.port,
      });
      metrics.flowOpened(t.contractId);
      splice(stream, upstream, countInto(entry), () => {
        flows.close(entry, countBytes);
        metrics.flowClosed();
      });
      if (t.wouldDeny) {
        denials.report({
          kind: 'would-deny',
          domain: t.domain,
          contract: t.contract,
          contractId: t.contractId,
          role: 'client',
          src: t.src,
          dst: t.dst,
          // Audit mode: the rule that would have refused it (the orchestrator's policy).
          code: 'TRELLIS_DENY_NOT_IN_ROLE',
          reason: t.wouldDeny,
        });
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  followIdentity(holder, server);
  const renewal = startRenewal({ control, holder, name: o.name, publicKeyPem, log });
  // Metrics are unauthenticated: loopback unless the operator names a monitoring address.
  const adminAt =
    o.adminListen === undefined ? { host: '127.0.0.1', port: DEFAULT_ADMIN_PORT } : o.adminListen;
  const admin = adminAt ? await listenMetrics(metrics.registry, adminAt) : undefined;
  log.info(
    {
      listen: endpointOf({ host: o.host, port: o.port }),
      endpoint,
      ...(adminAt && { metrics: `${adminAt.host}:${adminAt.port}` }),
    },
    'processor listening',
  );

  control.events(o.name, (event, data) => {
    if (event === 'policy' || event === 'hello' || event === 'ticket-keys')
      refreshPolicy()
        .then(() => metrics.eventApplied(event, data))
        .catch(() => undefined);
  });
  control.heartbeat(o.name);
  const report = setInterval(() => {
    control
      .call((api) => {
        flows.fold(countBytes);
        return api.request('PUT', `/api/v1/processors/${o.name}/flows`, flows.snapshot());
      })
      .catch(() => undefined);
  }, 1_000);
  report.unref();

  return {
    flows,
    async close() {
      clearInterval(report);
      clearInterval(folding);
      renewal.stop();
      control.stop();
      denials.stop();
      pool.close();
      admin?.close();
      admin?.closeAllConnections();
      for (const s of sessions) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
