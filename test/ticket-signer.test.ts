import { generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { type FlowTicket, signTicket, ticketKeyId, verifyTicket } from '../src/wire/ticket.js';

/**
 * Issue 12: the orchestrator signs the tickets of a bundle in a worker thread (the change of one
 * contract re-signs every ticket of it). The thread runs only from the built package (its file
 * is JavaScript), so this reads dist/ — `npm run build` first, as for the CLI tests. What a user
 * relies on: its tokens are the main thread's, byte for byte, and every hop accepts them.
 */
type SignerModule = typeof import('../src/orchestrator/tickets/signer.js');
const { TicketSigner } = (await import(
  new URL('../dist/src/orchestrator/tickets/signer.js', import.meta.url).href
)) as SignerModule;

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

describe('the ticket signer thread', () => {
  const signer = new TicketSigner();
  afterAll(() => signer.close());

  it('runs in a thread and signs what the main thread would, verifiable by every hop', async () => {
    expect(signer.threaded).toBe(true);
    const k = key();
    const tickets = Array.from({ length: 100 }, (_, i) => ticket(i));
    const tokens = await signer.sign(tickets, k);
    expect(tokens).toEqual(tickets.map((t) => signTicket({ ...t, keyId: k.id }, k.privateKey)));
    for (const [i, token] of tokens.entries()) {
      const v = verifyTicket(token, k.publicKey, now + 1);
      expect(v).toMatchObject({ ok: true, ticket: { src: `vm-${i}`, keyId: k.id } });
    }
  });

  it('signs with the key it is given after a rotation, not the one it holds', async () => {
    const [a, b] = [key(), key()];
    await signer.sign([ticket(1)], a);
    const [token] = await signer.sign([ticket(1)], b);
    expect(verifyTicket(token!, b.publicKey, now + 1).ok).toBe(true);
    expect(verifyTicket(token!, a.publicKey, now + 1).ok).toBe(false);
  });
});
