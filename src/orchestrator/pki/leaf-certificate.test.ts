import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import type * as X509 from '@peculiar/x509';
import { describe, expect, it } from 'vitest';
import { createCaInMemory, type FabricCa, issueNodeCertificate, x509 } from './ca.js';
import { issueServerCertificate } from './server-cert.js';

/**
 * The certificates used to come from @peculiar/x509's generator; leaf-certificate.ts builds them
 * from the ASN.1 types underneath it, faster. The generator, called as ca.ts and server-cert.ts
 * called it, is the oracle: every byte of the to-be-signed part must be the same but the serial.
 */
async function oracle(
  ca: FabricCa,
  o: {
    cn: string;
    spki: Uint8Array<ArrayBuffer>;
    sans: X509.JsonGeneralNames;
    ekus: string[];
    notBefore: Date;
    notAfter: Date;
  },
): Promise<Uint8Array> {
  const lib = await x509();
  const caCert = new lib.X509Certificate(ca.certPem);
  const der = new Uint8Array(ca.key.export({ type: 'pkcs8', format: 'der' }));
  const alg = { name: 'ECDSA', namedCurve: 'P-256' } as const;
  const signingKey = await globalThis.crypto.subtle.importKey('pkcs8', der, alg, false, ['sign']);
  const cert = await lib.X509CertificateGenerator.create({
    serialNumber: '01',
    subject: [{ CN: [o.cn] }],
    issuer: caCert.subjectName,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    publicKey: o.spki,
    signingKey,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature | lib.KeyUsageFlags.keyAgreement, true),
      new lib.ExtendedKeyUsageExtension(o.ekus),
      new lib.SubjectAlternativeNameExtension(o.sans),
      await lib.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return new Uint8Array(cert.rawData);
}

/** The to-be-signed part with the serial set to 1: what must not differ. */
function tbsWithoutSerial(der: Uint8Array): Buffer {
  const cert = AsnConvert.parse(der, asn.Certificate);
  cert.tbsCertificate.serialNumber = new Uint8Array([1]).buffer;
  return Buffer.from(AsnConvert.serialize(cert.tbsCertificate));
}

function spkiOf(pem: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' }));
}

describe('leaf certificates', () => {
  it("a node's certificate is @peculiar/x509's but for the serial, signed by the CA, its notAfter its own", async () => {
    const ca = await createCaInMemory('leaf-test');
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    const notBefore = new Date('2026-12-04T10:00:00.000Z');
    const notAfter = new Date('2026-12-11T10:00:00.000Z');
    const issued = await issueNodeCertificate(ca, {
      publicKey: key.export({ type: 'spki', format: 'pem' }).toString(),
      name: 'gcp-11',
      kind: 'workload',
      domain: 'voting-app',
      addresses: ['127.0.3.11', 'fd00::11', 'not-an-address'],
      notBefore,
      notAfter,
    });
    const cert = new X509Certificate(issued.certPem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(issued.notAfter).toBe(notAfter.toISOString());
    const expected = await oracle(ca, {
      cn: 'gcp-11',
      spki: spkiOf(issued.certPem),
      sans: [
        { type: 'url', value: 'trellis://voting-app/workload/gcp-11' },
        { type: 'ip', value: '127.0.3.11' },
        { type: 'ip', value: 'fd00::11' },
      ],
      ekus: ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2'],
      notBefore,
      notAfter,
    });
    expect(tbsWithoutSerial(new Uint8Array(cert.raw)).toString('hex')).toBe(
      tbsWithoutSerial(expected).toString('hex'),
    );
  });

  it("the orchestrator's certificate is a server's only, with DNS and IP names, and stops with its CA", async () => {
    const ca = await createCaInMemory();
    const caEnd = new Date(new X509Certificate(ca.certPem).validTo);
    const issued = await issueServerCertificate(ca, ['orchestrator.example', '127.0.0.1', '127.0.0.1'], 1e13);
    const [leafPem] = issued.certPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    const cert = new X509Certificate(leafPem!);
    expect(issued.certPem.endsWith(ca.certPem)).toBe(true);
    expect(issued.notAfter.getTime()).toBe(caEnd.getTime());
    const expected = await oracle(ca, {
      cn: 'trellis orchestrator',
      spki: spkiOf(leafPem!),
      sans: [
        { type: 'dns', value: 'orchestrator.example' },
        { type: 'ip', value: '127.0.0.1' },
      ],
      ekus: ['1.3.6.1.5.5.7.3.1'],
      notBefore: new Date(cert.validFrom),
      notAfter: caEnd,
    });
    expect(tbsWithoutSerial(new Uint8Array(cert.raw)).toString('hex')).toBe(
      tbsWithoutSerial(expected).toString('hex'),
    );
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });
});
