import http2, {
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { DenyCode } from '../../deny-codes.js';
import { type MtlsIdentity, mtlsServerOptions } from '../identity/tls-options.js';
import { H2_SETTINGS, SESSION_WINDOW } from './h2-settings.js';
import { H } from './headers.js';

/** The mTLS HTTP/2 server a processor and a server agent carry flows on, and its open sessions. */
export interface FlowServer {
  server: Http2SecureServer;
  sessions: Set<ServerHttp2Session>;
}

/**
 * The one flow server of the data plane: mutual TLS with the node's certificate, the link's
 * HTTP/2 settings, and a hostile network in mind — a garbage frame or a failed handshake ends
 * that connection only, and a flow whose handling throws ends alone (`onError`), never the node
 * with every other flow it carries.
 */
export function createFlowServer(
  identity: MtlsIdentity,
  onStream: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void,
  onError: (stream: ServerHttp2Stream, err: unknown) => void,
): FlowServer {
  const server = http2.createSecureServer({ ...mtlsServerOptions(identity), settings: H2_SETTINGS });
  const sessions = new Set<ServerHttp2Session>();
  server.on('secureConnection', (socket: TLSSocket) => socket.setNoDelay(true));
  server.on('session', (s) => {
    sessions.add(s);
    s.once('close', () => sessions.delete(s));
    s.setLocalWindowSize(SESSION_WINDOW);
    s.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  server.on('sessionError', () => undefined);
  server.on('stream', (stream, headers) => {
    try {
      onStream(stream, headers);
    } catch (err) {
      onError(stream, err);
    }
  });
  return { server, sessions };
}

/**
 * Refuses a flow with a status, its code (`trellis-deny-code`) and the reason the client agent
 * reports (cut to 1,000 characters: a header, not a log), and where a next hop did not answer,
 * its name. A stream that already answered or is gone is just reset.
 */
export function refuseFlow(
  stream: ServerHttp2Stream,
  status: number,
  code: DenyCode,
  reason: string,
  unreachable?: string,
): void {
  if (stream.destroyed || stream.headersSent) {
    stream.destroy();
    return;
  }
  stream.respond(
    {
      ':status': status,
      [H.denyCode]: code,
      [H.reason]: reason.slice(0, 1000),
      ...(unreachable && { [H.unreachable]: unreachable }),
    },
    { endStream: true },
  );
}
