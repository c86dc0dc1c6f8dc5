import net, { type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { type DenyCode, parseDenyCode } from '../deny-codes.js';
import { watchFirstByte } from '../node/dataplane/first-byte.js';
import { H } from '../node/dataplane/headers.js';
import type { FailoverReason } from '../node/dataplane/health.js';
import type { HealthMetrics } from '../node/dataplane/health-metrics.js';
import { PeerEjectedError, type SessionPool } from '../node/dataplane/pool.js';
import { sourceFor } from '../node/dataplane/source.js';
import { splice } from '../node/dataplane/splice.js';
import type { DenialReporter } from '../node/runtime/denials.js';
import { flowLabel } from '../wire/ticket.js';
import type { AgentClientEntry, AgentTarget, AgentTicket } from './bundle.js';
import { type ActiveFlow, MOVE_IDLE_MS, pathKey, readyToMove } from './flow-mover.js';
import { foreignSourceReason, fromOwnVm } from './own-vm.js';
import type { Stats } from './stats.js';

/** How long a processor or server instance that did not answer is tried last: it is probably down. */
export const HOP_DOWN_MS = 5_000;

/**
 * Client-role side of the agent: one local listener per contract on the client address
 * (loopback on a real host), serving only its own VM. Each accepted connection becomes a flow: a
 * CONNECT stream on the pooled connection to the first processor of a ticket's path,
 * round-robin over the server instances. When that processor cannot be reached the flow takes
 * the server's next ticket (entering at the VM's next processor) at once, then the next server.
 */
export class Outbound {
  readonly #servers = new Map<string, Server>();
  readonly #entries = new Map<string, AgentClientEntry>();
  readonly #active = new Map<string, Map<Socket, ActiveFlow>>();
  #rr = 0;
  #mover: NodeJS.Timeout | null = null;
  /** Processors (by name) that did not answer, until when paths through them are tried last. */
  readonly #down = new Map<string, number>();
  /** Server instances (by node name) a processor found not answering, until when they are tried last. */
  readonly #serverDown = new Map<string, number>();

  constructor(
    private o: {
      /** Where the client listeners bind. */
      address: string;
      /** The VM, named in a refused connection's denial. */
      vm?: string;
      /** The VM's own addresses: connections from them (or from the listener's own) are served. */
      ownAddresses?: string[];
      /** The addresses the VM registered (its certificate's IP SANs): the sources the first hop accepts. */
      registered?: string[];
      pool: SessionPool;
      denials: DenialReporter;
      stats: Stats;
      /** Failovers counted by the peer skipped (metrics/health.ts). */
      health?: HealthMetrics;
      log: Logger;
      /** Fetches a fresh bundle (after a processor says our ticket is stale). */
      refresh: () => Promise<void>;
    },
  ) {}

  /** The port of the contract's listener, if open. */
  port(contract: string): number | undefined {
    const a = this.#servers.get(contract)?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  contracts(): string[] {
    return [...this.#servers.keys()];
  }

  /**
   * Applies a new bundle: entries replace the old ones, listeners open for contracts the node
   * may now use, and flows of contracts it lost are cut. A listener, once open, stays: a
   * workload then gets a refused flow with a reason instead of a connection error.
   */
  async update(entries: AgentClientEntry[], ports: Map<string, number>): Promise<void> {
    // Every first hop a flow may fail over to is connected ahead of need: a failover then
    // costs no handshake, which on a loaded host is most of a hung hop's gap.
    for (const e of entries)
      for (const t of e.targets)
        for (const k of tickets(t))
          this.o.pool.warm(k.path[0]!.endpoint, { kind: 'processor', name: k.path[0]!.name });
    for (const e of entries) {
      this.#entries.set(e.contract, e);
      const usable = e.allowed || (e.mode === 'audit' && this.#servers.has(e.contract));
      if (usable && !this.#servers.has(e.contract))
        await this.#listen(e.contract, ports.get(e.contract) ?? 0);
      if (!e.allowed && e.mode !== 'audit') this.#cut(e.contract);
      else this.#markMoved(e);
    }
  }

  /**
   * The seed's transit edit must move traffic, not only new connections: flows whose server
   * now has another path (or is no longer a target) are marked, then closed when idle.
   */
  #markMoved(e: AgentClientEntry): void {
    const active = this.#active.get(e.contract);
    if (!active) return;
    let marked = 0;
    for (const flow of active.values()) {
      const moved = !this.#pathsOf(e, flow.server).has(flow.path);
      // A later bundle may give the old path back: then the flow stays.
      if (moved && !flow.moving) marked++;
      flow.moving = moved;
    }
    if (marked === 0) return;
    this.o.log.info({ contract: e.contract, flows: marked }, 'path changed: moving flows when idle');
    this.#startMover();
  }

  /** Paths a flow to `server` may take now: its ticket's and its fallbacks'. */
  #pathsOf(e: AgentClientEntry | undefined, server: string): Set<string> {
    const t = e?.targets.find((x) => x.server === server && x.token);
    return new Set(t ? tickets(t).map((x) => pathKey(x.path)) : [pathKey(undefined)]);
  }

  /**
   * A target's tickets, preferred first, with paths through a processor that just failed (or
   * a first hop our pool ejected) moved to the end: tried last, never dropped, so a wrong
   * guess costs a detour, not a refusal.
   */
  #ordered(t: AgentTarget): AgentTicket[] {
    const now = Date.now();
    const all = tickets(t);
    const up = all.filter(
      (x) =>
        !this.o.pool.isEjected(x.path[0]!.endpoint) &&
        !x.path.some((hop) => (this.#down.get(hop.name) ?? 0) > now),
    );
    return up.length === all.length ? all : [...up, ...all.filter((x) => !up.includes(x))];
  }

  /** Targets round-robin from `start`, with server instances found not answering moved to the end. */
  #targetsFrom(targets: AgentTarget[], start: number): AgentTarget[] {
    const now = Date.now();
    const turned = targets.map((_, n) => targets[(start + n) % targets.length]!);
    const up = turned.filter((t) => !((this.#serverDown.get(t.server) ?? 0) > now));
    return up.length === turned.length ? turned : [...up, ...turned.filter((t) => !up.includes(t))];
  }

  #startMover(): void {
    this.#mover ??= setInterval(() => this.#moveIdle(), MOVE_IDLE_MS / 2);
    this.#mover.unref();
  }

  #moveIdle(): void {
    const now = Date.now();
    let waiting = 0;
    for (const active of this.#active.values()) {
      for (const [socket, flow] of active) {
        if (!flow.moving) continue;
        if (!readyToMove(flow, now)) {
          waiting++;
          continue;
        }
        // FIN, as a server closing an idle keep-alive connection does; the splice ends the rest.
        flow.moving = false;
        active.delete(socket);
        socket.end();
        setTimeout(() => socket.destroy(), 2_000).unref();
      }
    }
    if (waiting === 0 && this.#mover) {
      clearInterval(this.#mover);
      this.#mover = null;
    }
  }

  #cut(contract: string): void {
    const active = this.#active.get(contract);
    if (!active || active.size === 0) return;
    this.o.log.warn({ contract, flows: active.size }, 'permission removed: cutting flows');
    for (const s of active.keys()) s.destroy();
    active.clear();
  }

  async #listen(contract: string, port: number): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) =>
      this.#flow(contract, socket),
    );
    server.on('error', (err) => this.o.log.error({ err: err.message, contract }, 'listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.o.address, () => resolve());
    });
    this.#servers.set(contract, server);
    this.o.log.info({ contract, port: this.port(contract) }, 'client listener open');
  }

  #flow(contract: string, socket: Socket, retried = false): void {
    if (!retried) socket.on('error', () => undefined);
    const e = this.#entries.get(contract);
    const stat = this.o.stats.of(contract, 'client');
    if (!e) return void socket.destroy();
    // In the lab every VM shares one loopback: another VM's address must not use our contracts.
    const source = retried
      ? ({ ok: true } as const)
      : fromOwnVm({
          remote: socket.remoteAddress,
          local: socket.localAddress,
          own: this.o.ownAddresses ?? [],
        });
    const deny = (code: DenyCode, reason: string) => {
      stat.denials++;
      this.o.denials.report({
        kind: 'deny',
        domain: e.domain,
        contract,
        contractId: e.contractId,
        role: 'client',
        src: null,
        dst: null,
        code,
        reason,
      });
      socket.destroy();
    };
    if (!source.ok)
      return deny(
        'TRELLIS_DENY_FOREIGN_SOURCE',
        foreignSourceReason(contract, this.o.vm ?? 'this VM', source.source),
      );
    // The bundle's reason for a contract the node may not use is its client role's (bundle.ts).
    if (!e.allowed && e.mode !== 'audit')
      return deny('TRELLIS_DENY_NOT_IN_ROLE', e.reason ?? `denied: no permission for contract "${contract}"`);
    const targets = e.targets.filter((t) => t.token);
    if (targets.length === 0) {
      // No target at all: no server instance has registered (yet); targets without a ticket:
      // the orchestrator found no path to any of them.
      if (e.targets.length === 0)
        return deny(
          'TRELLIS_DENY_NO_SERVER',
          `refused: contract "${contract}" has no usable path (no server instance is connected)`,
        );
      const why = e.targets.map((t) => `${t.server}: ${t.error}`).join('; ');
      return deny('TRELLIS_DENY_NO_PATH', `refused: contract "${contract}" has no usable path (${why})`);
    }
    // Data the workload sends before the flow is up waits in the socket's buffer.
    socket.pause();
    const start = this.#rr++;
    let refreshed = retried;
    // Every (server, ticket) to try, servers round-robin, each server's tickets preferred first.
    const remaining: { t: AgentTarget; k: AgentTicket }[] = [];
    for (const t of this.#targetsFrom(targets, start))
      for (const k of this.#ordered(t)) remaining.push({ t, k });
    /** The next try: the first whose server and processors are not known to be down now (what
     * this flow's earlier tries just learnt included), else simply the next. */
    const pick = () => {
      const now = Date.now();
      const i = remaining.findIndex(
        ({ t, k }) =>
          !((this.#serverDown.get(t.server) ?? 0) > now) &&
          !this.o.pool.isEjected(k.path[0]!.endpoint) &&
          !k.path.some((p) => (this.#down.get(p.name) ?? 0) > now),
      );
      return remaining.splice(Math.max(0, i), 1)[0];
    };
    const attempt = () => {
      const next = pick();
      if (!next)
        return deny(
          'TRELLIS_DENY_SERVER_UNREACHABLE',
          `refused: every server of contract "${contract}" is unreachable`,
        );
      const { t, k } = next;
      const hop = k.path[0]!;
      // Settled once: a watchdog, an error and a late answer must not each start a next try.
      let settled = false;
      let cancelWatch = () => {};
      const failover = (peer: string, reason: FailoverReason) => {
        if (settled) return;
        settled = true;
        cancelWatch();
        this.o.health?.failover(peer, reason);
        attempt();
      };
      const unreachable = (reason: FailoverReason) => {
        this.#down.set(hop.name, Date.now() + HOP_DOWN_MS);
        failover(hop.name, reason);
      };
      let stream: import('node:http2').ClientHttp2Stream;
      let session: import('node:http2').ClientHttp2Session;
      try {
        session = this.o.pool.get(hop.endpoint, { kind: 'processor', name: hop.name });
        stream = session.request({
          ':method': 'CONNECT',
          ':authority': t.server,
          [H.ticket]: k.token,
          [H.hop]: '0',
          [H.flowLabel]: String(flowLabel()),
          [H.source]: sourceFor(socket.remoteAddress, socket.remotePort, this.o.registered ?? []),
        });
      } catch (err) {
        return unreachable(err instanceof PeerEjectedError ? 'ejected' : 'unreachable');
      }
      // A first hop that accepts the stream but never answers (hung) fails over at once rather
      // than holding the flow; the last try has nowhere to go, so it waits.
      if (remaining.length > 0) {
        cancelWatch = watchFirstByte({
          pool: this.o.pool,
          session,
          nodesBeyondNext: k.path.length,
          hung: () => {
            stream.destroy();
            unreachable('first-byte-timeout');
          },
          slow: () => {
            stream.destroy();
            failover(hop.name, 'first-byte-timeout');
          },
        });
      }
      let answered = false;
      stream.on('error', () => {
        if (!answered) unreachable('unreachable');
        else socket.destroy();
      });
      // A first hop whose connection drops before it answers (it destroyed the session) closes
      // the stream without an error: without this the workload's connection hung for ever.
      stream.on('close', () => {
        if (!answered) unreachable('unreachable');
      });
      stream.on('response', (h) => {
        if (settled) return void stream.destroy();
        answered = true;
        cancelWatch();
        this.#down.delete(hop.name);
        const status = Number(h[':status']);
        if (status === 502 || status === 503 || status === 504) {
          stream.destroy();
          const named = h[H.unreachable];
          if (typeof named !== 'string' || !named) return failover(hop.name, 'refused');
          // A processor found the server instance (or a later processor) not answering: skip
          // it for a while, and in this flow go straight to the next server or another path.
          const until = Date.now() + HOP_DOWN_MS;
          if (named === t.server) {
            this.#serverDown.set(named, until);
            for (let n = remaining.length - 1; n >= 0; n--)
              if (remaining[n]!.t.server === named) remaining.splice(n, 1);
          } else this.#down.set(named, until);
          return failover(named, 'unreachable');
        }
        if (status === 412 && !refreshed) {
          // A policy change raced this flow: take the new bundle's decision, once.
          refreshed = true;
          stream.destroy();
          void this.o.refresh().then(() => this.#retry(contract, socket, deny));
          return;
        }
        if (status !== 200) {
          stream.destroy();
          // A processor's code is read against the catalogue, never recorded as it came.
          return deny(parseDenyCode(h[H.denyCode]), String(h[H.reason] ?? `refused (${status})`));
        }
        stat.flowsOut++;
        stat.active++;
        const set = this.#active.get(contract) ?? new Map<Socket, ActiveFlow>();
        const now = Date.now();
        const flow: ActiveFlow = {
          server: t.server,
          path: pathKey(k.path),
          lastActive: now,
          lastSent: null,
          moving: false,
        };
        // A bundle that arrived while this flow was being set up may already route it elsewhere.
        if (!this.#pathsOf(this.#entries.get(contract), t.server).has(flow.path)) {
          flow.moving = true;
          this.#startMover();
        }
        set.set(socket, flow);
        this.#active.set(contract, set);
        const count = (bytes: number, fromWorkload: boolean) => {
          if (fromWorkload) stat.bytesOut += bytes;
          else stat.bytesIn += bytes;
          flow.lastActive = Date.now();
          flow.lastSent = fromWorkload ? 'up' : 'down';
        };
        splice(socket, stream, count, () => {
          stat.active--;
          set.delete(socket);
        });
        socket.resume();
      });
    };
    attempt();
  }

  /** Re-runs flow setup with the current entry (after a refresh). */
  #retry(contract: string, socket: Socket, deny: (code: DenyCode, reason: string) => void): void {
    if (socket.destroyed) return;
    const e = this.#entries.get(contract);
    if (!e || (!e.allowed && e.mode !== 'audit'))
      return deny(
        'TRELLIS_DENY_NOT_IN_ROLE',
        e?.reason ?? `denied: no permission for contract "${contract}"`,
      );
    this.#flow(contract, socket, true);
  }

  async close(): Promise<void> {
    for (const s of this.#servers.values()) s.close();
    if (this.#mover) clearInterval(this.#mover);
    for (const set of this.#active.values()) for (const s of set.keys()) s.destroy();
  }
}

/** A target's tickets, preferred first: its own, then its fallbacks (entering at other processors). */
function tickets(t: AgentTarget): AgentTicket[] {
  const own = t.token && t.path?.[0] ? [{ token: t.token, path: t.path }] : [];
  return [...own, ...(t.fallbacks ?? []).filter((f) => f.token && f.path?.[0])];
}
