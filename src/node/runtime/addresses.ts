import { isIP } from 'node:net';
import { TrellisError } from '../../errors.js';

/**
 * Listen vs advertise: a node binds one address (`--listen`) and tells the fabric another
 * (`--advertise`): the endpoint peers dial and the IP SAN of its certificate. They differ behind
 * NAT, with a cloud public IP, or when binding every interface. Pure, so the rules are tested
 * without sockets.
 */

export interface HostPort {
  host: string;
  port: number;
}

/** Addresses that mean "every interface": fine to bind, meaningless to dial. */
export function isWildcard(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === '' || h === '0.0.0.0' || h === '::' || h === '0:0:0:0:0:0:0:0' || h === '::ffff:0.0.0.0';
}

/** `10.0.0.5`, `10.0.0.5:7500`, `[2001:db8::1]:7500`, `2001:db8::1` or a DNS name, with or without a port. */
export function parseAdvertise(s: string, defaultPort: number, flag = '--advertise'): HostPort {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(s);
  let host: string;
  let port: number;
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2] === undefined ? defaultPort : Number(bracketed[2]);
  } else if (isIP(s) === 6) {
    host = s;
    port = defaultPort;
  } else {
    const m = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(s);
    if (!m) throw badAdvertise(s, flag);
    host = m[1]!;
    port = m[2] === undefined ? defaultPort : Number(m[2]);
  }
  if (!(port > 0 && port <= 65535)) throw badAdvertise(s, flag);
  return { host, port };
}

function badAdvertise(s: string, flag: string): TrellisError {
  return new TrellisError('TRELLIS_ERR_VALIDATION', `${flag} "${s}" is not HOST or HOST:PORT`, {
    hint: 'e.g. 203.0.113.7 or 203.0.113.7:7500',
  });
}

/**
 * The endpoint a node registers: `advertise` when given, else `fallback` (the listen address, or
 * for an agent its --address). A wildcard there is refused: registering 0.0.0.0:7500 made every
 * peer dial itself and report a misleading "unreachable".
 */
export function advertisedEndpoint(o: {
  component: 'processor' | 'agent' | 'orchestrator';
  listen: HostPort;
  advertise?: HostPort;
  /** What is advertised when --advertise is absent; default: the listen address. */
  fallback?: HostPort;
  /** The flag the fallback came from, named in the error (default --listen). */
  fallbackFlag?: string;
}): HostPort {
  if (o.advertise) {
    if (isWildcard(o.advertise.host))
      throw new TrellisError(
        'TRELLIS_ERR_VALIDATION',
        `${o.component} --advertise "${o.advertise.host}" is a wildcard address; peers cannot dial it`,
        { hint: 'advertise the address other nodes reach this one at, e.g. --advertise 203.0.113.7' },
      );
    return o.advertise;
  }
  const fallback = o.fallback ?? o.listen;
  if (isWildcard(fallback.host)) {
    const flag = o.fallbackFlag ?? '--listen';
    throw new TrellisError(
      'TRELLIS_ERR_VALIDATION',
      `${o.component} ${flag} ${endpointOf(fallback)} is a wildcard address: it needs --advertise HOST[:PORT], the address peers reach it at`,
      { hint: `e.g. ${flag} ${endpointOf(fallback)} --advertise 203.0.113.7` },
    );
  }
  return fallback;
}

/** `host:port`, with brackets for an IPv6 host. */
export function endpointOf(a: HostPort): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}
