import { describe, expect, it } from 'vitest';
import type { FlowTicket } from '../../wire/ticket.js';
import { minLifeLeft, SignedTicketCache } from './signed-cache.js';

const ticket = (o: Partial<FlowTicket> = {}): FlowTicket => ({
  version: 2,
  keyId: 1,
  contractId: 0x9a751254,
  policyEpoch: 10,
  issuedAt: 1_000,
  expiresAt: 4_600,
  srcNodeId: 'fd00::1',
  dstNodeId: 'fd00::2',
  domain: 'voting-app',
  contract: 'voting-frontend',
  src: 'aws-11',
  dst: 'gcp-11',
  path: [{ name: 'aws-p1', endpoint: '127.0.1.1:7500' }],
  dstEndpoint: '127.0.2.3:7443',
  wouldDeny: null,
  proxyProtocol: true,
  ...o,
});

describe('SignedTicketCache', () => {
  const make = () => {
    let n = 0;
    const cache = new SignedTicketCache((t) => `sig${++n}:${t.policyEpoch}`, 3);
    return { cache, signed: () => n };
  };

  it('reuses the token of an identical ticket from a later epoch while the contract is unchanged', () => {
    const { cache, signed } = make();
    const a = cache.token(ticket(), 10, 1_000, 3_600);
    const b = cache.token(ticket({ policyEpoch: 12, issuedAt: 1_500, expiresAt: 5_100 }), 10, 1_500, 3_600);
    expect(b.token).toBe(a.token);
    // The ticket returned is the one the token encodes.
    expect(b.ticket).toEqual(a.ticket);
    expect(signed()).toBe(1);
  });

  it('signs again once the contract changed after the cached ticket', () => {
    const { cache, signed } = make();
    cache.token(ticket(), 10, 1_000, 3_600);
    const b = cache.token(ticket({ policyEpoch: 12 }), 11, 1_000, 3_600);
    expect(b.token).toBe('sig2:12');
    expect(signed()).toBe(2);
  });

  it('signs again when less than half the lifetime is left, or the content differs', () => {
    const { cache } = make();
    cache.token(ticket(), 10, 1_000, 3_600);
    expect(cache.token(ticket({ policyEpoch: 13 }), 10, 1_000 + 1_801, 3_600).token).toBe('sig2:13');
    const transit = ticket({
      path: [
        { name: 'aws-p1', endpoint: '127.0.1.1:7500' },
        { name: 'aws-p2', endpoint: '127.0.1.2:7500' },
      ],
    });
    expect(cache.token(transit, 10, 1_000, 3_600).token).toBe('sig3:10');
  });

  it('with a 120 s TTL, reuses a ticket only while it outlives the next refresh (at half the life left)', () => {
    const { cache, signed } = make();
    const short = (o: Partial<FlowTicket> = {}) => ticket({ issuedAt: 1_000, expiresAt: 1_120, ...o });
    cache.token(short(), 10, 1_000, 120);
    // 100 s left: reused, and the agent's refresh at half of it (50 s) still finds it valid.
    expect(cache.token(short({ policyEpoch: 11 }), 10, 1_020, 120).token).toBe('sig1:10');
    // 80 s left is less than 3/4 of the TTL: a new ticket, though more than half the TTL is left.
    expect(cache.token(short({ policyEpoch: 12 }), 10, 1_040, 120).token).toBe('sig2:12');
    expect(signed()).toBe(2);
    expect(minLifeLeft(120)).toBe(90);
    expect(minLifeLeft(3600)).toBe(1800);
  });

  it('signs again once the signing key changed (a rotation), whatever the ticket', () => {
    let n = 0;
    let generation = 1;
    const cache = new SignedTicketCache(
      (t) => `sig${++n}:${t.policyEpoch}`,
      10,
      () => generation,
    );
    cache.token(ticket(), 10, 1_000, 3_600);
    expect(cache.token(ticket(), 10, 1_001, 3_600).token).toBe('sig1:10');
    generation = 2;
    expect(cache.token(ticket(), 10, 1_002, 3_600).token).toBe('sig2:10');
  });

  it('keeps at most `max` tickets, dropping the least recently signed', () => {
    const { cache, signed } = make();
    for (const dst of ['a', 'b', 'c', 'd']) cache.token(ticket({ dst }), 10, 1_000, 3_600);
    expect(cache.size).toBe(3);
    cache.token(ticket({ dst: 'd' }), 10, 1_000, 3_600);
    expect(signed()).toBe(4);
    cache.token(ticket({ dst: 'a' }), 10, 1_000, 3_600);
    expect(signed()).toBe(5);
  });
});
