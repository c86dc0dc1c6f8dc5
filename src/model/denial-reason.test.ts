import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { notInRole } from '../orchestrator/policy/bundle.js';
import { type FlowTicket, signTicket, verifyTicket } from '../wire/ticket.js';
import { DENIAL_REASONS, denialReason } from './denial-reason.js';

const privateKey = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 7)]),
  format: 'der',
  type: 'pkcs8',
});
const publicKey = createPublicKey(privateKey);
const now = Date.UTC(2026, 0, 1) / 1000;
const ticket: FlowTicket = {
  version: 2,
  keyId: 1,
  contractId: 42,
  policyEpoch: 7,
  issuedAt: now,
  expiresAt: now + 3600,
  srcNodeId: 'fd32:10d7:b78f:9fc6:240d:8cb4:1db0:4082',
  dstNodeId: 'fd32:10d7:b78f:9fc6:407a:2236:3663:ff71',
  domain: 'voting-app',
  contract: 'voting-frontend',
  src: 'aws-11',
  dst: 'gcp-11',
  path: [{ name: 'aws-p1', endpoint: '127.0.1.1:7001' }],
  dstEndpoint: '127.0.2.11:8002',
  wouldDeny: null,
  proxyProtocol: false,
};

/** A ticket refusal as the processor words it (verifyHop prefixes `refused: `). */
function ticketRefusal(token: string, at = now, key = publicKey): string {
  const v = verifyTicket(token, key, at);
  if (v.ok) throw new Error('expected a refusal');
  return `refused: ${v.reason}`;
}

describe('denialReason', () => {
  const token = signTicket(ticket, privateKey);

  it('labels the ticket checks from the texts verifyTicket produces', () => {
    expect(denialReason(ticketRefusal(token, now + 3600))).toBe('expired');
    expect(denialReason(ticketRefusal(token, now - 3600))).toBe('future-ticket');
    expect(denialReason(ticketRefusal('not a ticket!'))).toBe('malformed-ticket');
    expect(denialReason(ticketRefusal(token.slice(0, 20)))).toBe('malformed-ticket');
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(denialReason(ticketRefusal(token, now, other))).toBe('bad-signature');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(denialReason(ticketRefusal(token, now, rsa))).toBe('bad-signature');
  });

  it("labels the processor's hop checks", () => {
    const where = 'contract "voting-frontend" (aws-11 -> gcp-11)';
    expect(denialReason('refused: no flow ticket')).toBe('no-ticket');
    expect(
      denialReason(`refused: aws-p2 is not hop 0 of the ticket's path [aws-p1, gcp-p1] for ${where}`),
    ).toBe('wrong-hop');
    expect(
      denialReason(`refused: ticket for ${where} predates the contract's last change (epoch 7 < 9)`),
    ).toBe('stale-epoch');
    expect(
      denialReason(`refused: ticket for ${where} presented by workload aws-12, expected workload aws-11`),
    ).toBe('wrong-peer');
    expect(denialReason(`refused: ticket for ${where} presented by an unidentified peer, expected x`)).toBe(
      'wrong-peer',
    );
    expect(denialReason('refused: next hop gcp-p1 unreachable (connect ECONNREFUSED)')).toBe(
      'next-hop-unreachable',
    );
    expect(denialReason('refused: next hop gcp-p1 failed (stream reset)')).toBe('next-hop-unreachable');
    expect(denialReason('refused: processors carry CONNECT streams only')).toBe('not-connect');
  });

  it("labels the agents' checks and the orchestrator's bundle reasons", () => {
    expect(denialReason(notInRole('worker', 'client', 'voting-db'))).toBe('not-in-role');
    expect(denialReason('denied: node "aws-12" is not in the client role of contract "hello"')).toBe(
      'not-in-role',
    );
    expect(denialReason('denied: no permission for contract "hello"')).toBe('not-in-role');
    expect(denialReason('denied: gcp-11 does not serve the server role of contract "hello"')).toBe(
      'not-served',
    );
    expect(denialReason('refused: gcp-11 has no --serve hello=HOST:PORT')).toBe('not-served');
    expect(denialReason('refused: flow for contract "hello" must arrive from gcp-p1, not aws-p1')).toBe(
      'wrong-peer',
    );
    expect(denialReason('refused: ticket is for gcp-11, this is gcp-12')).toBe('wrong-destination');
    expect(
      denialReason('refused: contract "hello" has no usable path (gcp-11: no connected processor for x)'),
    ).toBe('no-path');
    expect(denialReason('refused: every server of contract "hello" is unreachable')).toBe(
      'server-unreachable',
    );
    expect(denialReason('refused: CONNECT only')).toBe('not-connect');
  });

  it("falls back to 'other' and never returns a label outside the set", () => {
    expect(denialReason('refused by gcp-p1 (418)')).toBe('other');
    expect(denialReason('')).toBe('other');
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(DENIAL_REASONS).toContain(denialReason(s));
      }),
    );
  });

  it('is not fooled by entity names, which cannot hold the phrases it looks for', () => {
    // Names are [a-z0-9-]: a node called "expired" or "no-flow-ticket" stays what the rule says.
    expect(denialReason('refused: ticket is for expired, this is no-flow-ticket')).toBe('wrong-destination');
    expect(denialReason('denied: node "bad-signature" is not in the client role of contract "x"')).toBe(
      'not-in-role',
    );
  });
});
