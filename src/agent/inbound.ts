import type http2 from 'node:http2';
import type { Http2SecureServer, Http2Session, ServerHttp2Stream } from 'node:http2';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { DenyCode } from '../deny-codes.js';
import { createFlowServer, refuseFlow } from '../node/dataplane/flow-server.js';
import { H } from '../node/dataplane/headers.js';
import { parseSource } from '../node/dataplane/source.js';
import { splice } from '../node/dataplane/splice.js';
import { TicketCache } from '../node/dataplane/ticket-cache.js';
import { ticketRefusal } from '../node/dataplane/ticket-refusal.js';
import { type PeerIdentity, peerIdentity } from '../node/identity/peer-identity.js';
import type { MtlsIdentity } from '../node/identity/tls-options.js';
import type { DenialReporter } from '../node/runtime/denials.js';
import { encodeProxyV2 } from '../wire/proxy-v2.js';
import type { FlowTicket, TicketKeys } from '../wire/ticket.js';
import type { AgentServerEntry } from './bundle.js';
import type { Stats } from './stats.js';

/** `--serve voting-frontend=127.0.2.21:8080` */
export type ServeMap = Map<string, { host: string; port: number }>;

/**
 * Server-role side of the agent: accepts flows from the last processor of their path and
 * delivers them to the workload's port. It checks the ticket itself (defence in depth: the
 * processors already did), that the flow is for this node, and that the contract is one
 * this node serves.
 */
export class Inbound {
  #server: Http2SecureServer | undefined;
  #entries = new Map<number, AgentServerEntry>();
  readonly #tickets: TicketCache;
  /** Open sessions from processors: closing must end them, or server.close() waits forever. */
  #sessions = new Set<import('node:http2').ServerHttp2Session>();
  readonly #active = new Map<number, Set<{ src: string; destroy(): void }>>();

  constructor(
    private o: {
      name: string;
      /** The VM's address: deliveries to the workload come from it. */
      address: string;
      nodeId: () => string;
      ticketKey: TicketKeys;
      identity: () => MtlsIdentity;
      serve: ServeMap;
      /** Fetches a fresh bundle (a flow from a source we do not know yet). */
      refresh: () => Promise<void>;
      denials: DenialReporter;
      stats: Stats;
      log: Logger;
    },
  ) {
    this.#tickets = new TicketCache(o.ticketKey);
  }

  /** New bundle: flows whose source lost the client role (or whose contract is gone) are cut. */
  update(entries: AgentServerEntry[]): void {
    this.#entries = new Map(entries.map((e) => [e.contractId, e]));
    for (const [id, flows] of this.#active) {
      const e = this.#entries.get(id);
      for (const f of flows) {
        if (!e || (e.mode !== 'audit' && !e.clients.includes(f.src))) {
          f.destroy();
          flows.delete(f);
        }
      }
    }
  }

  /** The mTLS server, once listening: a renewed certificate is set on it (setSecureContext). */
  get server(): Http2SecureServer | undefined {
    return this.#server;
  }

  async listen(host: string, port: number): Promise<void> {
    // A flow that throws ends alone: every other flow this node serves keeps going.
    const { server, sessions } = createFlowServer(
      this.o.identity(),
      (stream, headers) => this.#flow(stream, headers),
      (stream, err) => this.#failed(stream, err),
    );
    this.#sessions = sessions;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.#server = server;
  }

  #failed(stream: ServerHttp2Stream, err: unknown): void {
    this.o.log.warn({ err: (err as Error).message }, 'inbound flow failed');
    stream.destroy();
  }

  #refuse(stream: ServerHttp2Stream, status: number, code: DenyCode, reason: string): void {
    refuseFlow(stream, status, code, reason);
  }

  /** A session's peer certificate never changes: read its identity once, not per flow (it showed
   * in the profile of new flows/s: getPeerCertificate builds the whole certificate object). */
  readonly #peers = new WeakMap<Http2Session, PeerIdentity | null>();
  #peerOf(session: Http2Session): PeerIdentity | null {
    let p = this.#peers.get(session);
    if (p === undefined) {
      const socket = session.socket as TLSSocket | undefined;
      p = socket ? peerIdentity(socket.getPeerCertificate()) : null;
      this.#peers.set(session, p);
    }
    return p;
  }

  #flow(stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    stream.on('error', () => undefined);
    if (headers[':method'] !== 'CONNECT')
      return this.#refuse(stream, 405, 'TRELLIS_DENY_NOT_CONNECT', 'refused: CONNECT only');
    const token = headers[H.ticket];
    if (!token) return this.#refuse(stream, 403, 'TRELLIS_DENY_NO_TICKET', 'refused: no flow ticket');
    const v = this.#tickets.verify(String(token));
    if (!v.ok) {
      // 412 for a key this node does not hold yet: the agent that sent it refreshes and retries.
      const r = ticketRefusal(v);
      return this.#refuse(stream, r.stale ? 412 : 403, r.code, r.reason);
    }
    const t = v.ticket;
    const peer = stream.session ? this.#peerOf(stream.session) : null;
    const last = t.path[t.path.length - 1]!.name;
    const deny = (code: DenyCode, reason: string) => {
      this.o.stats.of(t.contract, 'server').denials++;
      this.o.denials.report({
        kind: 'deny',
        domain: t.domain,
        contract: t.contract,
        contractId: t.contractId,
        role: 'server',
        src: t.src,
        dst: t.dst,
        code,
        reason,
      });
      this.#refuse(stream, 403, code, reason);
    };
    if (Number(headers[H.hop]) !== t.path.length || peer?.kind !== 'processor' || peer.name !== last) {
      return deny(
        'TRELLIS_DENY_WRONG_PEER',
        `refused: flow for contract "${t.contract}" must arrive from ${last}, not ${peer ? peer.name : 'an unidentified peer'}`,
      );
    }
    if (t.dst !== this.o.name || t.dstNodeId !== this.o.nodeId()) {
      return deny(
        'TRELLIS_DENY_WRONG_DESTINATION',
        `refused: ticket is for ${t.dst}, this is ${this.o.name}`,
      );
    }
    // Checked against the client's certificate by the first hop; parsed again here, since what
    // goes into the PROXY header must be an address, never whatever arrived.
    const source = parseSource(headers[H.source]);
    if (!source.ok) return deny('TRELLIS_DENY_BAD_SOURCE', `refused: ${source.reason} (from ${last})`);
    const known = (): boolean => {
      const e = this.#entries.get(t.contractId);
      return (
        e !== undefined && (e.clients.includes(t.srcNodeId) || e.mode === 'audit' || t.wouldDeny !== null)
      );
    };
    if (known()) return this.#deliver(stream, source, t, deny);
    // A valid ticket from a source this node has not heard of yet: a client that registered
    // after our last bundle. Ask once, then decide.
    this.o
      .refresh()
      .then(() => {
        if (stream.destroyed) return;
        if (known()) return this.#deliver(stream, source, t, deny);
        if (!this.#entries.has(t.contractId)) {
          return deny(
            'TRELLIS_DENY_NOT_SERVED',
            `denied: ${this.o.name} does not serve the server role of contract "${t.contract}"`,
          );
        }
        deny(
          'TRELLIS_DENY_NOT_IN_ROLE',
          `denied: node "${t.src}" is not in the client role of contract "${t.contract}"`,
        );
      })
      // Unhandled, a rejection here would end the process (Node's default) and every flow with it.
      .catch((err: unknown) => this.#failed(stream, err));
  }

  #deliver(
    stream: ServerHttp2Stream,
    source: { host: string; port: number },
    t: FlowTicket,
    deny: (code: DenyCode, reason: string) => void,
  ): void {
    const target = this.o.serve.get(t.contract);
    if (!target)
      return deny(
        'TRELLIS_DENY_NOT_SERVED',
        `refused: ${this.o.name} has no --serve ${t.contract}=HOST:PORT`,
      );
    // From the VM's own address: the workload sees (and may firewall to) its local agent. A
    // workload on loopback (a real host's default) is reached from loopback: binding the VM's
    // network address there would make its own agent look like a stranger.
    const localAddress = deliverFrom(target.host, this.o.address);
    const upstream = net.connect({
      host: target.host,
      port: target.port,
      ...(localAddress && { localAddress }),
      allowHalfOpen: true,
      noDelay: true,
    });
    upstream.on('error', (err) =>
      this.#refuse(
        stream,
        502,
        'TRELLIS_DENY_SERVER_UNREACHABLE',
        `refused: workload ${target.host}:${target.port} unreachable (${err.message})`,
      ),
    );
    upstream.once('connect', () => {
      try {
        this.#connected(stream, upstream, source, target, t);
      } catch (err) {
        upstream.destroy();
        this.#failed(stream, err);
      }
    });
  }

  #connected(
    stream: ServerHttp2Stream,
    upstream: net.Socket,
    source: { host: string; port: number },
    target: { host: string; port: number },
    t: FlowTicket,
  ): void {
    const stat = this.o.stats.of(t.contract, 'server');
    if (t.proxyProtocol) {
      upstream.write(
        encodeProxyV2(
          { address: source.host, port: source.port },
          { address: target.host, port: target.port },
        ),
      );
    }
    stream.respond({ ':status': 200 });
    stat.flowsIn++;
    stat.active++;
    const flows = this.#active.get(t.contractId) ?? new Set();
    const handle = { src: t.srcNodeId, destroy: () => upstream.destroy() };
    flows.add(handle);
    this.#active.set(t.contractId, flows);
    const count = (bytes: number, fromProcessor: boolean) => {
      if (fromProcessor) stat.bytesIn += bytes;
      else stat.bytesOut += bytes;
    };
    splice(stream, upstream, count, () => {
      stat.active--;
      flows.delete(handle);
    });
  }

  async close(): Promise<void> {
    for (const flows of this.#active.values()) for (const f of flows) f.destroy();
    for (const s of this.#sessions) s.destroy();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }
}

/**
 * The source address the server agent delivers from: the VM's, unless that cannot be right —
 * and not bound at all where the kernel picks it anyway. A socket bound before it connects gets
 * its port at bind(), before the destination is known, so the kernel must pass over every port
 * any socket holds, TIME_WAIT ones included: under connection churn each delivery cost more
 * (974 → 324 new flows/s through a chain as 25,000 TIME_WAIT sockets piled up, bench/dataplane),
 * until the ports would run out. connect() alone picks a port free for that destination.
 */
export function deliverFrom(targetHost: string, vmAddress: string): string | undefined {
  const loop = (a: string) => a === '::1' || a === 'localhost' || a.startsWith('127.');
  // A workload on loopback on a real host: from loopback (the VM's address would be a stranger's there).
  if (loop(targetHost) && !loop(vmAddress)) return undefined;
  // The workload on the VM's own address: a connection to a local address comes from that
  // address — but for loopback, where any 127.x destination gets 127.0.0.1 (hence the lab binds).
  const kernelPicksIt = !loop(vmAddress) || vmAddress === '127.0.0.1' || vmAddress === '::1';
  if (targetHost === vmAddress && kernelPicksIt) return undefined;
  return vmAddress;
}
