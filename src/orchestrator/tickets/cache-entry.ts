/**
 * One signed-ticket cache entry as a single one-byte string: what decides reuse (the ticket's
 * epoch and times, the signing key's generation) and its form in 17 bytes, then the token's
 * bytes. At 1,000 agents the cache holds ~100,000 entries; as an object with the token kept as
 * text (236 base64url characters) each was ~423 bytes of heap with its key, this is ~304 (the
 * key a 32-byte digest too, signed-cache.ts): 29 MB instead of 40 MB live, which V8 grows to
 * 2.5–3× while agents register (docs/benchmarks.md).
 *
 * Layout (char codes 0–255, big-endian): u32 policyEpoch · u32 issuedAt · u32 expiresAt ·
 * u32 generation · u8 form · payload. Form 0: the payload is the bytes a canonical base64url
 * token decodes to (every token wire/ticket.ts makes); form 1: the token's text as it was,
 * for any other string a signer returns (the tests' fakes), so nothing is ever altered.
 */
export interface EntryMeta {
  policyEpoch: number;
  issuedAt: number;
  expiresAt: number;
  generation: number;
}

const HEAD = 17;
const BYTES = 0;
const TEXT = 1;

export function packEntry(meta: EntryMeta, token: string): string {
  const raw = Buffer.from(token, 'base64url');
  const canonical = raw.toString('base64url') === token;
  const buf = Buffer.allocUnsafe(HEAD + (canonical ? raw.length : 0));
  buf.writeUInt32BE(meta.policyEpoch >>> 0, 0);
  buf.writeUInt32BE(meta.issuedAt >>> 0, 4);
  buf.writeUInt32BE(meta.expiresAt >>> 0, 8);
  buf.writeUInt32BE(meta.generation >>> 0, 12);
  buf[16] = canonical ? BYTES : TEXT;
  if (canonical) raw.copy(buf, HEAD);
  const head = buf.toString('latin1');
  return canonical ? head : head + token;
}

/** The reuse fields, read from the string without copying it (every lookup reads them). */
export function entryMeta(entry: string): EntryMeta {
  return {
    policyEpoch: u32(entry, 0),
    issuedAt: u32(entry, 4),
    expiresAt: u32(entry, 8),
    generation: u32(entry, 12),
  };
}

/** Where a hit's bytes are copied to be encoded: one buffer, reused (tokens are ≤ 3,002 bytes). */
const scratch = Buffer.allocUnsafe(4096);

export function entryToken(entry: string): string {
  if (entry.charCodeAt(16) === TEXT) return entry.slice(HEAD);
  if (entry.length > scratch.length) return Buffer.from(entry, 'latin1').toString('base64url', HEAD);
  const n = scratch.write(entry, 0, 'latin1');
  return scratch.toString('base64url', HEAD, n);
}

function u32(s: string, at: number): number {
  return (
    ((s.charCodeAt(at) << 24) |
      (s.charCodeAt(at + 1) << 16) |
      (s.charCodeAt(at + 2) << 8) |
      s.charCodeAt(at + 3)) >>>
    0
  );
}
