import { describe, expect, it } from 'vitest';
import type { DenyCode } from '../deny-codes.js';
import type { PeerIdentity } from '../node/identity/peer-identity.js';
import type { FlowTicket, TicketVerdict } from '../wire/ticket.js';
import { verifyHop } from './verify.js';

const ticket: FlowTicket = {
  version: 2,
  keyId: 1,
  contractId: 42,
  policyEpoch: 7,
  issuedAt: 0,
  expiresAt: 3600,
  srcNodeId: 'fd32::1',
  dstNodeId: 'fd32::2',
  domain: 'hello',
  contract: 'hello',
  src: 'aws-11',
  dst: 'gcp-11',
  path: [
    { name: 'aws-p1', endpoint: '127.0.1.1:7001' },
    { name: 'gcp-p1', endpoint: '127.0.1.2:7001' },
  ],
  dstEndpoint: '127.0.2.11:8002',
  wouldDeny: null,
  proxyProtocol: false,
};
const aws11: PeerIdentity = { kind: 'workload', name: 'aws-11', domain: 'hello' };

function hop(o: {
  token?: string;
  hop?: string;
  me?: string;
  peer?: PeerIdentity | null;
  verdict?: TicketVerdict;
  epochs?: Record<number, number>;
}) {
  return verifyHop({
    token: 'token' in o ? o.token : 'tok',
    hopHeader: o.hop ?? '0',
    me: o.me ?? 'aws-p1',
    peer: o.peer === undefined ? aws11 : o.peer,
    verify: () => o.verdict ?? { ok: true, ticket },
    contractEpochs: o.epochs ?? {},
  });
}

/** The code a refusal carries, the one the client agent sees, records and counts. */
function codeOf(v: ReturnType<typeof verifyHop>): DenyCode | 'accepted' {
  return v.ok ? 'accepted' : v.code;
}

describe('verifyHop: every refusal carries its code', () => {
  it('accepts the right hop from the right peer', () => {
    expect(codeOf(hop({}))).toBe('accepted');
  });

  it.each([
    ['no ticket', { token: undefined }, 'TRELLIS_DENY_NO_TICKET'],
    ['a hop it is not', { me: 'aws-p2' }, 'TRELLIS_DENY_WRONG_HOP'],
    ['a hop number not on the path', { hop: 'x' }, 'TRELLIS_DENY_WRONG_HOP'],
    ['an epoch before the contract changed', { epochs: { 42: 8 } }, 'TRELLIS_DENY_STALE_EPOCH'],
    ['another node presenting it', { peer: { ...aws11, name: 'aws-12' } }, 'TRELLIS_DENY_WRONG_PEER'],
    ['an unidentified peer', { peer: null }, 'TRELLIS_DENY_WRONG_PEER'],
    [
      'a bad signature',
      { verdict: { ok: false, code: 'bad-signature', reason: 'bad signature' } },
      'TRELLIS_DENY_BAD_SIGNATURE',
    ],
    [
      'an expired ticket',
      { verdict: { ok: false, code: 'expired', reason: 'ticket expired at x' } },
      'TRELLIS_DENY_EXPIRED',
    ],
    [
      'a ticket from the future',
      { verdict: { ok: false, code: 'future', reason: 'ticket issued in the future' } },
      'TRELLIS_DENY_FUTURE_TICKET',
    ],
    [
      'a ticket cut short',
      { verdict: { ok: false, code: 'truncated', reason: 'malformed ticket: truncated at keyId' } },
      'TRELLIS_DENY_MALFORMED_TICKET',
    ],
    [
      'a key it does not hold yet',
      { verdict: { ok: false, code: 'unknown-key', reason: 'unknown key', unknownKeyId: 9 } },
      'TRELLIS_DENY_UNKNOWN_KEY',
    ],
  ] as const)('%s → %s', (_what, input, code) => {
    expect(codeOf(hop(input as Parameters<typeof hop>[0]))).toBe(code);
  });

  it('marks the refusals the agent should retry after a refresh as stale (412)', () => {
    const stale = hop({ epochs: { 42: 8 } });
    expect(!stale.ok && stale.stale).toBe(true);
    const key = hop({ verdict: { ok: false, code: 'unknown-key', reason: 'x', unknownKeyId: 9 } });
    expect(!key.ok && key.stale).toBe(true);
    const expired = hop({ verdict: { ok: false, code: 'expired', reason: 'x' } });
    expect(!expired.ok && expired.stale).toBeFalsy();
  });
});
