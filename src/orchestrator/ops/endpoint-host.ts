import { isIP } from 'node:net';

/** The host of a registered endpoint (`IP:PORT` or `[IPv6]:PORT`), in the canonical form of `sameAddress`. */
export function endpointHost(endpoint: string): string {
  const m = /^\[([^\]]+)\]:\d+$/.exec(endpoint) ?? /^([^:]+):\d+$/.exec(endpoint);
  return m ? canonicalAddress(m[1]!) : '';
}

/** IPv6 has many spellings of one address (`::1`, `0:0::1`): compare them as the URL parser writes them. */
export function canonicalAddress(a: string): string {
  if (isIP(a) !== 6) return a;
  try {
    return new URL(`http://[${a}]/`).hostname.slice(1, -1);
  } catch {
    return a;
  }
}

/**
 * Whether an endpoint's host is one of the node's registered addresses. A processor opens TLS
 * to a node's endpoint: if any host were accepted, an owner could make processors dial
 * anything (an orchestrator port, another VM's service) in the fabric's name.
 */
export function endpointOnOwnAddress(endpoint: string, addresses: string[]): boolean {
  const host = endpointHost(endpoint);
  return host !== '' && addresses.some((a) => canonicalAddress(a) === host);
}
