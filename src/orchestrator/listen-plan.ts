import { TrellisError } from '../errors.js';
import { hostPort, isLoopback, isWildcard } from '../net/address-kind.js';

/**
 * How the orchestrator serves, decided before anything starts: HTTPS unless the operator asked
 * for plain HTTP on loopback, and under which names. Pure, so every refusal is tested without
 * a socket.
 */
export interface ListenRequest {
  host: string;
  port: number;
  /** --advertise: names and addresses clients use; the server certificate covers each. */
  advertise: string[];
  plainHttp: boolean;
  /** --tls-cert / --tls-key given (the operator's own certificate). */
  ownCertificate: boolean;
}

export interface ListenPlan {
  protocol: 'http' | 'https';
  /** Names the self-issued certificate covers (empty with an own certificate or plain HTTP). */
  certificateHosts: string[];
  /** The host a printed URL uses: the first advertise name, else the listen address. */
  urlHost: string;
}

export function planListen(r: ListenRequest): ListenPlan {
  if (isWildcard(r.host) && r.advertise.length === 0) {
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `--listen ${hostPort(r.host || '0.0.0.0', r.port)} listens on every interface: say with --advertise HOST[,HOST…] which names or addresses clients use`,
      { hint: 'e.g. --advertise orchestrator.example.com,203.0.113.10' },
    );
  }
  if (r.plainHttp) {
    if (r.ownCertificate) {
      throw new TrellisError(
        'TRELLIS_ERR_VALIDATION',
        '--plain-http and --tls-cert/--tls-key contradict each other',
      );
    }
    if (!isLoopback(r.host)) {
      throw new TrellisError(
        'TRELLIS_ERR_VALIDATION',
        `refusing plain HTTP on ${hostPort(r.host || '0.0.0.0', r.port)}: passwords and tokens would cross the network in clear`,
        {
          hint: 'drop --plain-http (the orchestrator then serves HTTPS with a certificate from the fabric CA), or listen on 127.0.0.1',
        },
      );
    }
  }
  const urlHost = r.advertise[0] ?? r.host;
  if (r.plainHttp || r.ownCertificate)
    return { protocol: r.plainHttp ? 'http' : 'https', certificateHosts: [], urlHost };
  const hosts = [...r.advertise];
  if (!isWildcard(r.host)) hosts.push(r.host);
  // A loopback orchestrator is reached as localhost as often as by its address.
  if (hosts.some(isLoopback)) hosts.push('localhost', '127.0.0.1', '::1');
  return {
    protocol: 'https',
    certificateHosts: [...new Set(hosts.map((h) => h.replace(/^\[|\]$/g, '')))],
    urlHost,
  };
}

export function orchestratorUrl(plan: ListenPlan, port: number): string {
  return `${plan.protocol}://${hostPort(plan.urlHost, port)}`;
}
