import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryMeta, entryToken, packEntry } from './cache-entry.js';

const meta = fc.record({
  policyEpoch: fc.nat({ max: 0xffffffff }),
  issuedAt: fc.nat({ max: 0xffffffff }),
  expiresAt: fc.nat({ max: 0xffffffff }),
  generation: fc.nat({ max: 0xffffffff }),
});

describe('signed-ticket cache entries: packed, and given back exactly', () => {
  it('a real token (canonical base64url) comes back as it was, with every reuse field', () => {
    fc.assert(
      fc.property(meta, fc.uint8Array({ maxLength: 400 }), (m, bytes) => {
        const token = Buffer.from(bytes).toString('base64url');
        const entry = packEntry(m, token);
        expect(entryMeta(entry)).toEqual(m);
        expect(entryToken(entry)).toBe(token);
        // Kept as its bytes: 17 bytes of fields, then the token's bytes (not its 4/3 as text).
        expect(entry.length).toBe(17 + bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('any other string a signer returns (padding, other alphabets, non-Latin-1) also comes back as it was', () => {
    fc.assert(
      fc.property(meta, fc.string({ unit: 'grapheme', maxLength: 80 }), (m, token) => {
        const entry = packEntry(m, token);
        expect(entryMeta(entry)).toEqual(m);
        expect(entryToken(entry)).toBe(token);
      }),
      { numRuns: 300 },
    );
    for (const token of ['sig1:10', 'AAAA==', 'AB', 'A+/=', ''])
      expect(entryToken(packEntry({ policyEpoch: 1, issuedAt: 2, expiresAt: 3, generation: 4 }, token))).toBe(
        token,
      );
  });
});
