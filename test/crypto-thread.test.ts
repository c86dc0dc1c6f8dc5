import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createCaInMemory } from '../src/orchestrator/pki/ca.js';
import { type FlowTicket, signTicket, ticketKeyId, verifyTicket } from '../src/wire/ticket.js';

/**
 * Issue 12: the orchestrator signs the tickets of a bundle (the change of one contract re-signs
 * every ticket of it) and issues node certificates (one per registration) in a worker thread.
 * The thread runs only from the built package (its file is JavaScript), so this reads dist/ —
 * `npm run build` first, as for the CLI tests. What a user relies on: its tokens are the main
 * thread's, byte for byte, and every hop accepts them; its certificates carry the node's key
 * and identity, chain to the fabric CA, and a refused request is refused as on the main thread.
 */
type ThreadModule = typeof import('../src/orchestrator/crypto/thread.js');
const { CryptoThread } = (await import(
  new URL('../dist/src/orchestrator/crypto/thread.js', import.meta.url).href
)) as ThreadModule;

const key = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { id: ticketKeyId(publicKey), privateKey, publicKey };
};
const now = Math.floor(Date.now() / 1000);
const ticket = (i: number): FlowTicket => ({
  version: 2,
  keyId: 0,
  contractId: 0x9a751254,
  policyEpoch: 7,
  issuedAt: now,
  expiresAt: now + 3600,
  srcNodeId: 'fd00::1',
  dstNodeId: 'fd00::2',
  domain: 'bench',
  contract: 'c-0',
  src: `vm-${i}`,
  dst: 'vm-1',
  path: [{ name: 'p1', endpoint: '127.0.0.1:7500' }],
  dstEndpoint: '127.0.0.2:7443',
  wouldDeny: null,
  proxyProtocol: false,
});

describe('the crypto thread', () => {
  const signer = new CryptoThread();
  afterAll(() => signer.close());

  it('runs in a thread and signs what the main thread would, verifiable by every hop', async () => {
    expect(signer.threaded).toBe(true);
    const k = key();
    const tickets = Array.from({ length: 100 }, (_, i) => ticket(i));
    const tokens = await signer.signTickets(tickets, k);
    expect(tokens).toEqual(tickets.map((t) => signTicket({ ...t, keyId: k.id }, k.privateKey)));
    for (const [i, token] of tokens.entries()) {
      const v = verifyTicket(token, k.publicKey, now + 1);
      expect(v).toMatchObject({ ok: true, ticket: { src: `vm-${i}`, keyId: k.id } });
    }
  });

  it('signs with the key it is given after a rotation, not the one it holds', async () => {
    const [a, b] = [key(), key()];
    await signer.signTickets([ticket(1)], a);
    const [token] = await signer.signTickets([ticket(1)], b);
    expect(verifyTicket(token!, b.publicKey, now + 1).ok).toBe(true);
    expect(verifyTicket(token!, a.publicKey, now + 1).ok).toBe(false);
  });

  it('issues node certificates for the node key, chained to the CA, with its identity and addresses', async () => {
    const ca = await createCaInMemory('bench');
    const nodeKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey;
    const pem = nodeKey.export({ type: 'spki', format: 'pem' }).toString();
    const issued = await signer.issueCertificate(ca, {
      publicKey: pem,
      name: 'aws-11',
      kind: 'workload',
      domain: 'voting-app',
      addresses: ['127.0.42.41', 'aws-11.internal'],
      validForMs: 3_600_000,
    });
    const cert = new X509Certificate(issued.certPem);
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.subject).toBe('CN=aws-11');
    expect(cert.subjectAltName).toContain('IP Address:127.0.42.41');
    expect(cert.subjectAltName).toContain('voting-app');
    expect(cert.publicKey.export({ type: 'spki', format: 'pem' })).toBe(pem);
    expect(new Date(cert.validTo).toISOString()).toBe(issued.notAfter);
    const hours = (Date.parse(issued.notAfter) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(0.9);
    expect(hours).toBeLessThan(1.01);
  });

  it('refuses what the main thread refuses, with the same error (a bad name is a 400, not a 500)', async () => {
    const ca = await createCaInMemory();
    const pem = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const refused = signer.issueCertificate(ca, {
      publicKey: pem,
      name: 'a/b',
      kind: 'workload',
      domain: 'voting-app',
      addresses: [],
    });
    await expect(refused).rejects.toMatchObject({
      code: 'TRELLIS_ERR_VALIDATION',
      message: 'name "a/b" is not a valid name',
    });
    expect(signer.threaded).toBe(true); // and the thread still serves
  });
});
