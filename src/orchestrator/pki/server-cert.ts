import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import { CLOCK_SKEW_MS } from '../../wire/clock-skew.js';
import { type FabricCa, leafIssuerFor } from './ca.js';
import { sans, signLeaf } from './leaf-certificate.js';

/**
 * The orchestrator's own HTTPS certificate, issued by the fabric CA for the names and addresses
 * clients use to reach it (its advertise list). Clients pin the CA, not this certificate, so it is
 * made afresh at every start (a new advertise name needs no re-pinning) and re-issued before it
 * expires; its key never touches the disk.
 */
export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

export const SERVER_CERT_VALIDITY_MS = 90 * 24 * 3600_000;

export async function issueServerCertificate(
  ca: FabricCa,
  hosts: readonly string[],
  validForMs = SERVER_CERT_VALIDITY_MS,
): Promise<ServerCertificate> {
  const by = leafIssuerFor(ca);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const now = Date.now();
  let notAfter = new Date(now + validForMs);
  if (notAfter > by.notAfter) notAfter = by.notAfter;
  const cert = signLeaf(by, {
    commonName: 'trellis orchestrator',
    publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    sans: [...new Set(hosts)].map((h) => (isIP(h) ? sans.ip(h) : sans.dns(h))),
    use: 'server',
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter,
  });
  return {
    certPem: `${cert.certPem}${ca.certPem}`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    notAfter: cert.notAfter,
  };
}
