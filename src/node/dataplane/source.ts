import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';

/**
 * The `trellis-source` header: the client workload's address (ip:port), which the server agent
 * writes into the PROXY v2 header its workload reads. A peer controls the header, so it is parsed
 * here into a value or a refusal (never an exception), and the first processor accepts it only if
 * its IP is one of the client node's registered addresses, which the client's certificate carries
 * as IP SANs (the CA writes them from the registration). Later hops trust the processor before
 * them (mTLS-authenticated fabric nodes) but still parse it, and forward only the canonical form.
 */

/** `[` 45-character IPv6 `]:65535` is 53; anything longer is not an address. */
export const MAX_SOURCE_LENGTH = 64;

export type SourceVerdict =
  | { ok: true; host: string; port: number /** canonical `ip:port` / `[ip6]:port` */; value: string }
  | { ok: false; reason: string };

/** `::ffff:127.0.4.11` → `127.0.4.11`, lower case: one spelling per address. */
export function canonicalIp(ip: string): string {
  const lower = ip.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return lower;
}

function shown(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}

export function formatSource(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parseSource(raw: string | string[] | undefined): SourceVerdict {
  if (raw === undefined) return { ok: false, reason: 'no trellis-source header' };
  // Node joins a repeated header into an array (or ", "): two sources is no source.
  if (Array.isArray(raw)) return { ok: false, reason: 'trellis-source header sent more than once' };
  if (raw.length > MAX_SOURCE_LENGTH)
    return {
      ok: false,
      reason: `trellis-source is ${raw.length} characters, more than ${MAX_SOURCE_LENGTH}`,
    };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(raw);
  const ip = m ? (m[1] ?? m[2])! : '';
  const port = m ? Number(m[3]) : 0;
  if (!m || isIP(ip) !== (m[1] !== undefined ? 6 : 4) || port < 1 || port > 65535) {
    return { ok: false, reason: `trellis-source ${shown(raw)} is not IP:PORT (or [IPv6]:PORT)` };
  }
  const host = canonicalIp(ip);
  return { ok: true, host, port, value: formatSource(host, port) };
}

/** The IP SANs of a peer's certificate: the addresses its node registered when it was issued. */
export function certificateAddresses(cert: PeerCertificate | undefined): string[] {
  const san = cert?.subjectaltname;
  if (!san) return [];
  const out: string[] = [];
  for (const entry of san.split(', ')) {
    if (!entry.startsWith('IP Address:')) continue;
    const ip = entry.slice('IP Address:'.length);
    if (isIP(ip)) out.push(canonicalIp(expandIpv6(ip)));
  }
  return out;
}

/** Node prints IPv6 SANs uncompressed (`FD32:0:0:0:0:0:0:1`); compare in one spelling. */
function expandIpv6(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const url = new URL(`http://[${ip}]/`);
  return url.hostname.slice(1, -1);
}

function sameIp(a: string, b: string): boolean {
  return canonicalIp(expandIpv6(a)) === canonicalIp(expandIpv6(b));
}

/**
 * At the first hop: the source as the client node's agent sent it, accepted only when its IP is
 * one of that node's addresses. `node` names the client in the refusal.
 */
export function checkFirstHopSource(
  raw: string | string[] | undefined,
  node: string,
  addresses: readonly string[],
): SourceVerdict {
  const s = parseSource(raw);
  if (!s.ok) return { ok: false, reason: `refused: ${s.reason} (from workload ${node})` };
  if (!addresses.some((a) => sameIp(a, s.host))) {
    return {
      ok: false,
      reason: `refused: trellis-source ${s.value} is not an address of ${node} (its certificate names ${addresses.join(', ') || 'none'})`,
    };
  }
  return s;
}

/**
 * At the client agent: the workload's address as the fabric knows it. A workload that reached
 * the listener from one of the VM's registered addresses is named by it; one that came over
 * loopback (the listener's default on a real host) is named by the VM's registered address, the
 * address the server's side can recognise, with the workload's port.
 */
export function sourceFor(
  remote: string | undefined,
  port: number | undefined,
  registered: readonly string[],
): string {
  const ip = canonicalIp(remote ?? '');
  const own = registered.filter((a) => isIP(a));
  const host = own.some((a) => sameIp(a, ip)) ? ip : (own[0] ?? ip);
  return formatSource(host, port ?? 0);
}
