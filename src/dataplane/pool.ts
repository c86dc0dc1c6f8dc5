import http2, { type ClientHttp2Session } from 'node:http2';
import tls from 'node:tls';
import { type ExpectedPeer, type MtlsIdentity, mtlsClientOptions } from '../orchestrator/pki/tls-options.js';
import { H2_SETTINGS, SESSION_WINDOW } from './h2-settings.js';

/**
 * One pooled mTLS HTTP/2 connection per next hop: flows are streams on it, so a new flow
 * costs no handshake (the anchors: a handshake per hop per flow caps a chain at ~200 flows/s).
 */
export class SessionPool {
  readonly #sessions = new Map<string, ClientHttp2Session>();

  constructor(private identity: () => MtlsIdentity) {}

  get(endpoint: string, expect: ExpectedPeer): ClientHttp2Session {
    const key = `${endpoint}|${expect.kind ?? ''}/${expect.name ?? ''}`;
    const existing = this.#sessions.get(key);
    if (existing && !existing.closed && !existing.destroyed) return existing;
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
    session.on('error', () => {
      /* surfaced on the streams that were using it */
    });
    session.on('close', () => {
      if (this.#sessions.get(key) === session) this.#sessions.delete(key);
    });
    session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
    this.#sessions.set(key, session);
    return session;
  }

  close(): void {
    for (const s of this.#sessions.values()) s.destroy();
    this.#sessions.clear();
  }
}

function splitEndpoint(endpoint: string): { host: string; port: number } {
  const i = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(endpoint.slice(i + 1)) };
}
