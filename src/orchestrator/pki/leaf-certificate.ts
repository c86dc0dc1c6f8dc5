import { createHash, type KeyObject, randomFillSync, sign, X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';

/**
 * Leaf certificates signed by the fabric CA — every node's, and the orchestrator's own HTTPS
 * one — built from @peculiar/asn1-x509's ASN.1 types and signed with node:crypto. What they
 * share is prepared once per CA (`leafIssuer`): @peculiar/x509's generator, used before,
 * re-parsed every extension, the key and both names it was given on each certificate, signed
 * through WebCrypto and then parsed the finished certificate back into an object: ~2.0-2.5 ms of
 * the crypto thread per certificate on this machine kind, 1,000 of them while 1,000 agents
 * register; this is ~0.8 ms, the same bytes but for the serial and the signature
 * (src/orchestrator/pki/pki.test.ts compares them).
 */
export interface LeafIssuer {
  /** The CA's subject, as it is encoded in the CA certificate. */
  issuer: asn.Name;
  authorityKeyId: asn.Extension;
  key: KeyObject;
  /** A leaf cannot usefully outlive its CA. */
  notAfter: Date;
}

/** Node certificates serve both ends of a mutual link; the orchestrator's is a server's only. */
export type LeafUse = 'node' | 'server';

export interface LeafRequest {
  commonName: string;
  /** The subject's public key, SPKI DER. */
  publicKey: Uint8Array;
  sans: asn.GeneralName[];
  use: LeafUse;
  notBefore: Date;
  notAfter: Date;
}

const ECDSA_WITH_SHA256 = new asn.AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' });
const COMMON_NAME = '2.5.4.3';

function extension(id: string, critical: boolean, value: object): asn.Extension {
  return new asn.Extension({ extnID: id, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

const USAGE: Record<LeafUse, readonly asn.Extension[]> = {
  node: usage([asn.id_kp_serverAuth, asn.id_kp_clientAuth]),
  // Server only: the orchestrator's certificate must never pass as a fabric node's client one.
  server: usage([asn.id_kp_serverAuth]),
};

function usage(purposes: string[]): asn.Extension[] {
  return [
    extension(asn.id_ce_basicConstraints, true, new asn.BasicConstraints({ cA: false })),
    extension(
      asn.id_ce_keyUsage,
      true,
      new asn.KeyUsage(asn.KeyUsageFlags.digitalSignature | asn.KeyUsageFlags.keyAgreement),
    ),
    extension(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage(purposes)),
  ];
}

export function leafIssuer(caCertPem: string, key: KeyObject): LeafIssuer {
  const ca = new X509Certificate(caCertPem);
  const tbs = AsnConvert.parse(ca.raw, asn.Certificate).tbsCertificate;
  // The key identifier as RFC 5280 4.2.1.2 (1) derives it: SHA-1 of the CA's public key bits.
  const keyId = createHash('sha1').update(new Uint8Array(tbs.subjectPublicKeyInfo.subjectPublicKey)).digest();
  return {
    issuer: tbs.subject,
    authorityKeyId: extension(
      asn.id_ce_authorityKeyIdentifier,
      false,
      new asn.AuthorityKeyIdentifier({ keyIdentifier: new asn.KeyIdentifier(keyId) }),
    ),
    key,
    notAfter: new Date(ca.validTo),
  };
}

export function signLeaf(by: LeafIssuer, req: LeafRequest): { certPem: string; notAfter: Date } {
  const tbs = new asn.TBSCertificate({
    version: asn.Version.v3,
    serialNumber: serialNumber(),
    signature: ECDSA_WITH_SHA256,
    issuer: by.issuer,
    validity: new asn.Validity({ notBefore: req.notBefore, notAfter: req.notAfter }),
    subject: new asn.Name([
      new asn.RelativeDistinguishedName([
        // PrintableString, as @peculiar/x509 wrote a name that fits it (fabric names always do).
        new asn.AttributeTypeAndValue({ type: COMMON_NAME, value: commonName(req.commonName) }),
      ]),
    ]),
    subjectPublicKeyInfo: AsnConvert.parse(req.publicKey, asn.SubjectPublicKeyInfo),
    extensions: new asn.Extensions([
      ...USAGE[req.use],
      extension(asn.id_ce_subjectAltName, false, new asn.SubjectAlternativeName(req.sans)),
      by.authorityKeyId,
    ]),
  });
  // ECDSA's DER signature (r, s) is what an X.509 signature value holds.
  const signature = sign('sha256', new Uint8Array(AsnConvert.serialize(tbs)), by.key);
  const der = AsnConvert.serialize(
    new asn.Certificate({
      tbsCertificate: tbs,
      signatureAlgorithm: ECDSA_WITH_SHA256,
      signatureValue: new Uint8Array(signature).buffer,
    }),
  );
  // Read back by OpenSSL: the PEM and the notAfter returned are the certificate's own.
  const cert = new X509Certificate(new Uint8Array(der));
  return { certPem: cert.toString(), notAfter: new Date(cert.validTo) };
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;
function commonName(name: string): asn.AttributeValue {
  return new asn.AttributeValue(PRINTABLE.test(name) ? { printableString: name } : { utf8String: name });
}

/** 16 random bytes, top bit cleared so the DER INTEGER stays positive at its full length. */
export function serialNumber(): ArrayBuffer {
  const bytes = randomFillSync(new Uint8Array(16));
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.buffer;
}

export const sans = {
  uri: (value: string) => new asn.GeneralName({ uniformResourceIdentifier: value }),
  ip: (value: string) => new asn.GeneralName({ iPAddress: value }),
  dns: (value: string) => new asn.GeneralName({ dNSName: value }),
};
