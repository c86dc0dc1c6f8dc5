import net, { type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { H } from '../dataplane/headers.js';
import type { SessionPool } from '../dataplane/pool.js';
import { splice } from '../dataplane/splice.js';
import type { DenialReporter } from '../node-runtime/denials.js';
import { flowLabel } from '../wire/ticket.js';
import type { AgentClientEntry } from './bundle.js';
import type { Stats } from './stats.js';

/**
 * Client-role side of the agent: one local listener per contract on the VM's address. Each
 * accepted connection becomes a flow: a CONNECT stream on the pooled connection to the first
 * processor of a ticket's path, round-robin over the server instances, failing over to the
 * next one when a hop cannot be reached.
 */
export class Outbound {
  readonly #servers = new Map<string, Server>();
  readonly #entries = new Map<string, AgentClientEntry>();
  readonly #active = new Map<string, Set<Socket>>();
  #rr = 0;

  constructor(
    private o: {
      address: string;
      pool: SessionPool;
      denials: DenialReporter;
      stats: Stats;
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
    for (const e of entries) {
      this.#entries.set(e.contract, e);
      const usable = e.allowed || (e.mode === 'audit' && this.#servers.has(e.contract));
      if (usable && !this.#servers.has(e.contract))
        await this.#listen(e.contract, ports.get(e.contract) ?? 0);
      if (!e.allowed && e.mode !== 'audit') this.#cut(e.contract);
    }
  }

  #cut(contract: string): void {
    const active = this.#active.get(contract);
    if (!active || active.size === 0) return;
    this.o.log.warn({ contract, flows: active.size }, 'permission removed: cutting flows');
    for (const s of active) s.destroy();
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
    const deny = (reason: string) => {
      stat.denials++;
      this.o.denials.report({
        kind: 'deny',
        domain: e.domain,
        contract,
        contractId: e.contractId,
        role: 'client',
        src: null,
        dst: null,
        reason,
      });
      socket.destroy();
    };
    if (!e.allowed && e.mode !== 'audit')
      return deny(e.reason ?? `denied: no permission for contract "${contract}"`);
    const targets = e.targets.filter((t) => t.token);
    if (targets.length === 0) {
      const why =
        e.targets.map((t) => `${t.server}: ${t.error}`).join('; ') || 'no server instance is connected';
      return deny(`refused: contract "${contract}" has no usable path (${why})`);
    }
    // Data the workload sends before the flow is up waits in the socket's buffer.
    socket.pause();
    const start = this.#rr++;
    let refreshed = retried;
    const attempt = (i: number) => {
      if (i >= targets.length) return deny(`refused: every server of contract "${contract}" is unreachable`);
      const t = targets[(start + i) % targets.length]!;
      const hop = t.path?.[0];
      if (!hop) return attempt(i + 1);
      let stream: import('node:http2').ClientHttp2Stream;
      try {
        stream = this.o.pool.get(hop.endpoint, { kind: 'processor', name: hop.name }).request({
          ':method': 'CONNECT',
          ':authority': t.server,
          [H.ticket]: t.token!,
          [H.hop]: '0',
          [H.flowLabel]: String(flowLabel()),
          [H.source]: `${socket.remoteAddress}:${socket.remotePort}`,
        });
      } catch {
        return attempt(i + 1);
      }
      let answered = false;
      stream.on('error', () => {
        if (!answered) attempt(i + 1);
        else socket.destroy();
      });
      stream.on('response', (h) => {
        answered = true;
        const status = Number(h[':status']);
        if (status === 502 || status === 503) {
          stream.destroy();
          return attempt(i + 1);
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
          return deny(String(h[H.reason] ?? `refused (${status})`));
        }
        stat.flowsOut++;
        stat.active++;
        const set = this.#active.get(contract) ?? new Set();
        set.add(socket);
        this.#active.set(contract, set);
        socket.on('data', (c: Buffer) => {
          stat.bytesOut += c.length;
        });
        stream.on('data', (c: Buffer) => {
          stat.bytesIn += c.length;
        });
        splice(socket, stream, { packets: 0, bytes: 0, lastActive: 0 }, () => {
          stat.active--;
          set.delete(socket);
        });
        socket.resume();
      });
    };
    attempt(0);
  }

  /** Re-runs flow setup with the current entry (after a refresh). */
  #retry(contract: string, socket: Socket, deny: (reason: string) => void): void {
    if (socket.destroyed) return;
    const e = this.#entries.get(contract);
    if (!e || (!e.allowed && e.mode !== 'audit'))
      return deny(e?.reason ?? `denied: no permission for contract "${contract}"`);
    this.#flow(contract, socket, true);
  }

  async close(): Promise<void> {
    for (const s of this.#servers.values()) s.close();
    for (const set of this.#active.values()) for (const s of set) s.destroy();
  }
}
