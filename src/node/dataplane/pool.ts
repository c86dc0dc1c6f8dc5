import http2, { type ClientHttp2Session } from 'node:http2';
import tls from 'node:tls';
import { type ExpectedPeer, type MtlsIdentity, mtlsClientOptions } from '../identity/tls-options.js';
import { H2_SETTINGS, SESSION_WINDOW } from './h2-settings.js';
import {
  CONNECT_DEADLINE_MS,
  type EjectReason,
  type HealthListener,
  judgeable,
  PING_DEADLINE_MS,
  PING_INTERVAL_MS,
  PROBE_INTERVAL_MS,
} from './health.js';

/** pool.get for a peer that missed its PING: the flow must go elsewhere at once, not wait. */
export class PeerEjectedError extends Error {
  constructor(
    readonly peer: string,
    readonly endpoint: string,
  ) {
    super(`${peer} (${endpoint}) is not answering: ejected until it answers a probe`);
  }
}

interface Entry {
  key: string;
  endpoint: string;
  expect: ExpectedPeer;
  session: ClientHttp2Session;
  createdAt: number;
  connected: boolean;
  /** When the PING now outstanding was sent; null: none is. */
  pingSentAt: number | null;
  lastAck: number;
}

/** How often the pool looks at its sessions: finer than the deadlines it enforces. */
const TICK_MS = PING_INTERVAL_MS / 2;

/**
 * One pooled mTLS HTTP/2 connection per next hop: flows are streams on it, so a new flow
 * costs no handshake (the anchors: a handshake per hop per flow caps a chain at ~200 flows/s).
 *
 * Health: a peer that accepts TCP but does not answer (SIGSTOP, a wedged process) would hold
 * every flow sent to it. Each session is pinged every PING_INTERVAL_MS; one that misses
 * PING_DEADLINE_MS (or does not finish its handshake in CONNECT_DEADLINE_MS) is destroyed —
 * its streams fail, so their flows fail over — and its endpoint is ejected: get() throws
 * PeerEjectedError until a probe connection to it answers a PING.
 */
export class SessionPool {
  readonly #sessions = new Map<string, Entry>();
  readonly #bySession = new WeakMap<ClientHttp2Session, Entry>();
  /** Ejected endpoint → the peer it was, for the probe and the metrics. */
  readonly #ejected = new Map<string, { expect: ExpectedPeer; lastProbe: number }>();
  readonly #timer: NodeJS.Timeout;
  #due = Date.now() + TICK_MS;

  constructor(
    private identity: () => MtlsIdentity,
    private health: HealthListener = {},
  ) {
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
    this.#timer.unref();
  }

  get(endpoint: string, expect: ExpectedPeer): ClientHttp2Session {
    if (this.#ejected.has(endpoint)) throw new PeerEjectedError(peerName(expect, endpoint), endpoint);
    const key = keyOf(endpoint, expect);
    const existing = this.#sessions.get(key)?.session;
    if (existing && !existing.closed && !existing.destroyed) return existing;
    return this.#open(endpoint, expect).session;
  }

  /**
   * For a flow's first-byte watchdog: sends a PING on `session` now unless one is outstanding,
   * so that a few hundred milliseconds later answeredSince() tells a live next hop (whose
   * answer is held up further on) from a hung one.
   */
  pingNow(session: ClientHttp2Session): void {
    const e = this.#bySession.get(session);
    if (e?.connected) this.#ping(e);
  }

  /**
   * How long the PING outstanding on `session` has waited for its answer (0: none is), counted
   * from `floor` at the earliest: a caller whose own process was stopped or stalled passes when
   * it resumed, as time it was not running proves nothing about the peer.
   */
  pingWaitingMs(session: ClientHttp2Session, now = Date.now(), floor = 0): number {
    const sent = this.#bySession.get(session)?.pingSentAt;
    return sent == null ? 0 : now - Math.max(sent, floor);
  }

  /**
   * Opens a session to `endpoint` ahead of need (the agent's fallback first hops): a flow
   * failing over then costs no TLS handshake on its way. An ejected endpoint is left to its probe.
   */
  warm(endpoint: string, expect: ExpectedPeer): void {
    if (this.#ejected.has(endpoint)) return;
    const existing = this.#sessions.get(keyOf(endpoint, expect))?.session;
    if (!existing || existing.closed || existing.destroyed) this.#open(endpoint, expect);
  }

  /** Whether the peer of `session` answered a PING at or after `since` (ms). */
  answeredSince(session: ClientHttp2Session, since: number): boolean {
    return (this.#bySession.get(session)?.lastAck ?? 0) >= since;
  }

  /** Whether flows to `endpoint` are being skipped (it missed a PING and has not answered a probe). */
  isEjected(endpoint: string): boolean {
    return this.#ejected.has(endpoint);
  }

  #open(endpoint: string, expect: ExpectedPeer): Entry {
    const key = keyOf(endpoint, expect);
    const tlsOptions = mtlsClientOptions(this.identity(), undefined, expect);
    const { host, port } = splitEndpoint(endpoint);
    const session = http2.connect(`https://${endpoint}`, {
      ...tlsOptions,
      // Our own socket, so Nagle can be turned off (http2 forbids touching its socket later):
      // small request/response flows must not wait 40 ms for an ACK.
      createConnection: () => {
        const socket = tls.connect({ ...tlsOptions, host, port });
        socket.setNoDelay(true);
        return socket;
      },
      // Many concurrent flows per connection, each with room for a large TLS record's worth.
      settings: H2_SETTINGS,
      peerMaxConcurrentStreams: 10_000,
    });
    const now = Date.now();
    const entry: Entry = {
      key,
      endpoint,
      expect,
      session,
      createdAt: now,
      connected: false,
      pingSentAt: null,
      lastAck: 0,
    };
    session.on('error', () => {
      /* surfaced on the streams that were using it */
    });
    session.on('close', () => {
      if (this.#sessions.get(key) === entry) this.#sessions.delete(key);
    });
    session.once('connect', () => {
      entry.connected = true;
      session.setLocalWindowSize(SESSION_WINDOW);
      // At once: a probe's first answer lifts the ejection without waiting a round.
      this.#ping(entry);
    });
    this.#sessions.set(key, entry);
    this.#bySession.set(session, entry);
    return entry;
  }

  #ping(e: Entry): void {
    if (e.pingSentAt !== null || e.session.destroyed) return;
    e.pingSentAt = Date.now();
    try {
      e.session.ping((err) => {
        if (err || this.#sessions.get(e.key) !== e) return;
        e.pingSentAt = null;
        e.lastAck = Date.now();
        if (this.#ejected.delete(e.endpoint))
          this.health.restored?.(peerName(e.expect, e.endpoint), e.endpoint);
      });
    } catch {
      // A closing session refuses new PINGs; its close removes it.
    }
  }

  #tick(): void {
    const now = Date.now();
    const fair = judgeable(this.#due, now);
    this.#due = now + TICK_MS;
    // We were stopped or stalled: outstanding PINGs' answers may be unread, so their wait restarts.
    if (!fair) for (const e of this.#sessions.values()) if (e.pingSentAt !== null) e.pingSentAt = now;
    for (const e of [...this.#sessions.values()]) {
      if (e.session.destroyed) continue;
      if (!e.connected) {
        if (fair && now - e.createdAt > CONNECT_DEADLINE_MS) this.#fail(e, 'connect-timeout');
      } else if (e.pingSentAt !== null) {
        if (fair && now - e.pingSentAt > PING_DEADLINE_MS) this.#fail(e, 'ping-timeout');
      } else if (now - Math.max(e.lastAck, e.createdAt) >= PING_INTERVAL_MS) this.#ping(e);
    }
    // Probes: one connection at a time per ejected endpoint; it is the pooled session once it answers.
    for (const [endpoint, x] of this.#ejected) {
      if (now - x.lastProbe < PROBE_INTERVAL_MS) continue;
      if ([...this.#sessions.values()].some((e) => e.endpoint === endpoint)) continue;
      x.lastProbe = now;
      this.#open(endpoint, x.expect);
    }
  }

  #fail(e: Entry, reason: EjectReason): void {
    this.#sessions.delete(e.key);
    e.session.destroy();
    if (this.#ejected.has(e.endpoint)) return; // a probe that did not answer: still ejected
    this.#ejected.set(e.endpoint, { expect: e.expect, lastProbe: Date.now() });
    for (const other of [...this.#sessions.values()]) {
      if (other.endpoint !== e.endpoint) continue;
      this.#sessions.delete(other.key);
      other.session.destroy();
    }
    this.health.ejected?.(peerName(e.expect, e.endpoint), e.endpoint, reason);
  }

  close(): void {
    clearInterval(this.#timer);
    for (const e of this.#sessions.values()) e.session.destroy();
    this.#sessions.clear();
    this.#ejected.clear();
  }
}

function keyOf(endpoint: string, expect: ExpectedPeer): string {
  return `${endpoint}|${expect.kind ?? ''}/${expect.name ?? ''}`;
}

function peerName(expect: ExpectedPeer, endpoint: string): string {
  return expect.name ?? endpoint;
}

function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(endpoint.slice(i + 1)) };
}
