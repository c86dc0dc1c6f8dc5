import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import type * as X509 from '@peculiar/x509';
import { CLOCK_SKEW_MS } from '../../wire/clock-skew.js';
import { type FabricCa, randomSerial, signerFor, x509 } from './ca.js';

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
  const lib = await x509();
  const signer = await signerFor(ca);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const sans: X509.JsonGeneralNames = [...new Set(hosts)].map((h) =>
    isIP(h) ? { type: 'ip', value: h } : { type: 'dns', value: h },
  );
  const now = Date.now();
  let notAfter = new Date(now + validForMs);
  if (notAfter > signer.cert.notAfter) notAfter = signer.cert.notAfter;
  const cert = await lib.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: ['trellis orchestrator'] }],
    issuer: signer.cert.subjectName,
    notBefore: new Date(now - CLOCK_SKEW_MS),
    notAfter,
    publicKey: new Uint8Array(publicKey.export({ type: 'spki', format: 'der' })),
    signingKey: signer.signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature | lib.KeyUsageFlags.keyAgreement, true),
      // Server only: this certificate must never pass as a fabric node's client certificate.
      new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.serverAuth]),
      new lib.SubjectAlternativeNameExtension(sans),
      signer.authorityKeyId,
    ],
  });
  return {
    certPem: `${cert.toString('pem')}\n${ca.certPem}`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    notAfter: cert.notAfter,
  };
}
