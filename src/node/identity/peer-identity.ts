import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';

/** Who a certificate says its holder is: read from the `trellis://<domain>/<kind>/<name>` URI SAN. */
export interface PeerIdentity {
  domain: string;
  kind: 'processor' | 'workload';
  name: string;
}

const TRELLIS_URI_SAN = /^URI:trellis:\/\/([a-z0-9-]+)\/(processor|workload)\/([a-z0-9-]+)$/;

export function nodeUri(id: PeerIdentity): string {
  return `trellis://${id.domain}/${id.kind}/${id.name}`;
}

/**
 * The identity a peer's certificate carries. Kept apart from the CA (and its dependencies)
 * because every hop calls it and processors and agents should not load what issuing needs.
 */
export function peerIdentity(cert: PeerCertificate | X509Certificate): PeerIdentity | null {
  // getPeerCertificate() returns {} when the peer sent none, so subjectaltname may be absent.
  const san: string | undefined = cert instanceof X509Certificate ? cert.subjectAltName : cert.subjectaltname;
  if (!san) return null;
  let found: PeerIdentity | null = null;
  for (const entry of san.split(', ')) {
    const m = TRELLIS_URI_SAN.exec(entry);
    if (!m) continue;
    // We never issue two identities in one certificate; if one shows up, trust neither.
    if (found) return null;
    found = { domain: m[1]!, kind: m[2] as PeerIdentity['kind'], name: m[3]! };
  }
  return found;
}
