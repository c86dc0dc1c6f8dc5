import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bytesToIpv6,
  decodeTicket,
  encodeTicket,
  type FlowTicket,
  flowLabel,
  ipv6ToBytes,
  keyIdHex,
  MAX_TOKEN_LENGTH,
  signTicket,
  TicketError,
  ticketKeyId,
  verifyTicket,
} from './ticket.js';

// Fixed key from a fixed seed (PKCS#8 prefix for Ed25519 + 32 bytes), so signed tokens are reproducible.
const privateKey = createPrivateKey({
  key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, 7)]),
  format: 'der',
  type: 'pkcs8',
});
const publicKey = createPublicKey(privateKey);

const t2026 = Date.UTC(2026, 0, 1) / 1000;

const golden: FlowTicket = {
  version: 2,
  keyId: ticketKeyId(publicKey),
  contractId: 0x400186a6,
  policyEpoch: 7,
  issuedAt: t2026,
  expiresAt: t2026 + 3600,
  srcNodeId: 'fd32:10d7:b78f:9fc6:240d:8cb4:1db0:4082',
  dstNodeId: 'fd32:10d7:b78f:9fc6:407a:2236:3663:ff71',
  domain: 'voting-app',
  contract: 'voting-frontend',
  src: 'aws-11',
  dst: 'gcp-11',
  path: [
    { name: 'aws-p1', endpoint: '127.0.1.1:7001' },
    { name: 'gcp-p1', endpoint: '[fd00::1]:7001' },
  ],
  dstEndpoint: '127.0.2.11:8002',
  wouldDeny: null,
  proxyProtocol: true,
};

// --- arbitraries ------------------------------------------------------------------------------

const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');
const name = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 63 })
  .filter((s) => utf8Length(s) >= 1 && utf8Length(s) <= 63);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nodeId = fc.uint8Array({ minLength: 16, maxLength: 16 }).map(bytesToIpv6);
const port = fc.integer({ min: 1, max: 65535 });
const endpoint = fc.oneof(
  fc.tuple(fc.ipV4(), port).map(([ip, p]) => `${ip}:${p}`),
  fc.tuple(fc.ipV6(), port).map(([ip, p]) => `[${ip}]:${p}`),
);
const ticketArb: fc.Arbitrary<FlowTicket> = fc
  .record({
    version: fc.constant(2 as const),
    keyId: u32,
    contractId: fc.integer({ min: 1, max: 0xffffffff }),
    policyEpoch: u32,
    issuedAt: fc.integer({ min: 0, max: 0xfffffffe }),
    expiresAt: u32,
    srcNodeId: nodeId,
    dstNodeId: nodeId,
    domain: name,
    contract: name,
    src: name,
    dst: name,
    path: fc.array(fc.record({ name, endpoint }), { minLength: 1, maxLength: 16 }),
    dstEndpoint: endpoint,
    wouldDeny: fc.option(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 512 }).filter((s) => utf8Length(s) <= 512),
    ),
    proxyProtocol: fc.boolean(),
  })
  .map((t) => (t.expiresAt > t.issuedAt ? t : { ...t, expiresAt: t.issuedAt + 1 }));

const decodeCode = (bytes: Uint8Array): string => {
  try {
    decodeTicket(bytes);
    return 'ok';
  } catch (e) {
    if (!(e instanceof TicketError)) throw e;
    return e.code;
  }
};

// --- codec ------------------------------------------------------------------------------------

describe('flow ticket codec', () => {
  it('round-trips every valid ticket', () => {
    fc.assert(
      fc.property(ticketArb, (t) => {
        expect(decodeTicket(encodeTicket(t))).toEqual(t);
      }),
      { numRuns: 500 },
    );
  });

  it('encodes the same bytes however many node IDs and endpoints it has seen (its memo is bounded), and refuses a bad one after good ones', () => {
    const back = (i: number) => {
      const t: FlowTicket = {
        ...golden,
        srcNodeId: `fd00:0:0:0:0:0:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`,
        dstEndpoint: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:7443`,
      };
      expect(decodeTicket(encodeTicket(t))).toEqual(t);
    };
    // More than the memo holds (4,096), then the first ones again after it was emptied.
    for (let i = 0; i < 5_000; i++) back(i);
    for (let i = 0; i < 100; i++) back(i);
    expect(() => encodeTicket({ ...golden, dstEndpoint: '10.0.0.1:70000' })).toThrow(/dstEndpoint/);
    expect(() => encodeTicket({ ...golden, srcNodeId: 'fd00::1::2' })).toThrow(/srcNodeId/);
  });

  it('pins the wire format (golden)', () => {
    // This hex IS the version-2 wire format: computed once from `golden` and written here. If it
    // changes, tickets from older orchestrators no longer verify at newer hops (or vice versa):
    // bump the version byte instead of editing this string.
    const hex = [
      '02', // version
      '01', // flags: proxyProtocol
      'fe812c12', // keyId: first 4 bytes of SHA-256 of the raw public key
      '400186a6', // contractId
      '00000007', // policyEpoch
      '6955b900', // issuedAt 2026-01-01T00:00:00Z
      '6955c710', // expiresAt one hour later
      'fd3210d7b78f9fc6240d8cb41db04082', // srcNodeId
      'fd3210d7b78f9fc6407a22363663ff71', // dstNodeId
      '0a766f74696e672d617070', // "voting-app"
      '0f766f74696e672d66726f6e74656e64', // "voting-frontend"
      '066177732d3131', // "aws-11"
      '066763702d3131', // "gcp-11"
      '02', // two hops
      '066177732d7031', // "aws-p1"
      '0e3132372e302e312e313a37303031', // "127.0.1.1:7001"
      '066763702d7031', // "gcp-p1"
      '0e5b666430303a3a315d3a37303031', // "[fd00::1]:7001"
      '0f3132372e302e322e31313a38303032', // dstEndpoint "127.0.2.11:8002"
    ].join('');
    expect(Buffer.from(encodeTicket(golden)).toString('hex')).toBe(hex);
    expect(decodeTicket(Buffer.from(hex, 'hex'))).toEqual(golden);
    // Ed25519 is deterministic, so the signature is pinned too: it covers "trellis-flow-ticket\0"
    // then the body (checked once with `openssl pkeyutl -sign -rawin` over the same bytes and key).
    const token = Buffer.from(signTicket(golden, privateKey), 'base64url');
    expect(token.subarray(0, -64).toString('hex')).toBe(hex);
    expect(token.subarray(-64).toString('hex')).toBe(
      '927de9b4f7e3fd0892c6570511688f8848123eec808edb4f7ae7679a60837b2a' +
        '82f709cf63e00257a9ba0a45d6fa02ced321fdaf95e1adb033404523407a3907',
    );
  });

  it('stores node IDs as 16 bytes and gives them back in the node-ID form', () => {
    const t = { ...golden, srcNodeId: 'FD32:10D7:0:0::1', dstNodeId: '::ffff:127.0.0.1' };
    const back = decodeTicket(encodeTicket(t));
    expect(back.srcNodeId).toBe('fd32:10d7:0:0:0:0:0:1');
    expect(back.dstNodeId).toBe('0:0:0:0:0:ffff:7f00:1');
  });

  it('refuses invalid fields on encode, naming the field', () => {
    const cases: [Partial<Record<keyof FlowTicket, unknown>>, string][] = [
      [{ contractId: 0 }, 'contractId'],
      [{ contractId: 2 ** 32 }, 'contractId'],
      [{ policyEpoch: -1 }, 'policyEpoch'],
      [{ issuedAt: 1.5 }, 'issuedAt'],
      [{ expiresAt: golden.issuedAt }, 'expiresAt'],
      [{ srcNodeId: 'fd32::10d7::1' }, 'srcNodeId'],
      [{ dstNodeId: '127.0.0.1' }, 'dstNodeId'],
      [{ domain: '' }, 'domain'],
      [{ contract: 'x'.repeat(64) }, 'contract'],
      [{ src: 'é'.repeat(32) }, 'src'], // 64 bytes in UTF-8
      [{ dst: '\ud800' }, 'dst'],
      [{ path: [] }, 'path'],
      [{ path: new Array(17).fill(golden.path[0]) }, 'path'],
      [{ path: [{ name: 'aws-p1', endpoint: 'localhost:7001' }] }, 'path[0].endpoint'],
      [{ path: [golden.path[0], { name: '', endpoint: '127.0.0.1:1' }] }, 'path[1].name'],
      [{ dstEndpoint: '127.0.0.1:0' }, 'dstEndpoint'],
      [{ dstEndpoint: '127.0.0.01:80' }, 'dstEndpoint'],
      [{ dstEndpoint: 'fd00::1:80' }, 'dstEndpoint'],
      [{ wouldDeny: 'x'.repeat(513) }, 'wouldDeny'],
      [{ proxyProtocol: 'yes' }, 'proxyProtocol'],
    ];
    for (const [patch, field] of cases) {
      const bad = { ...golden, ...patch } as FlowTicket;
      expect(() => encodeTicket(bad), field).toThrow(TicketError);
      try {
        encodeTicket(bad);
      } catch (e) {
        expect((e as TicketError).field, JSON.stringify(patch)).toBe(field);
        expect((e as TicketError).message).toContain(field);
      }
    }
    expect(() => encodeTicket({ ...golden, version: 1 as 2 })).toThrow(/version/);
    expect(() => encodeTicket({ ...golden, keyId: -1 })).toThrow(/keyId/);
  });

  it('gives "truncated" for every proper prefix of a valid encoding, naming the field', () => {
    const full = encodeTicket({ ...golden, wouldDeny: 'client owner not in the User Access List' });
    for (let n = 0; n < full.length; n++)
      expect(decodeCode(full.subarray(0, n)), `length ${n}`).toBe('truncated');
    expect(() => decodeTicket(full.subarray(0, 4))).toThrow('truncated at keyId');
    expect(() => decodeTicket(full.subarray(0, 8))).toThrow('truncated at contractId');
    expect(decodeCode(full)).toBe('ok');
  });

  it('names what is wrong in bytes that are not a ticket', () => {
    const full = encodeTicket(golden);
    const patched = (at: number, value: number) => {
      const b = Uint8Array.from(full);
      b[at] = value;
      return b;
    };
    // Version 1 (no key ID) is refused: its signing key could not be told apart from another.
    expect(() => decodeTicket(patched(0, 1))).toThrow(/version 1/);
    expect(decodeCode(patched(0, 1))).toBe('bad-version');
    expect(() => decodeTicket(patched(1, 0x80))).toThrow(/flags/);
    expect(() => decodeTicket(patched(54, 0))).toThrow(/domain length 0/);
    expect(() => decodeTicket(patched(55, 0xff))).toThrow(/domain is not valid UTF-8/);
    expect(() => decodeTicket(Buffer.concat([full, Buffer.from([0])]))).toThrow(/1 unexpected byte/);
    expect(decodeCode(Buffer.concat([full, Buffer.from([0])]))).toBe('trailing-bytes');
  });

  it('throws only TicketError on random and mutated bytes, without hanging', { timeout: 20_000 }, () => {
    // The timeout guards against a hang (a loop driven by hostile lengths); it is not a speed goal.
    const valid = encodeTicket({ ...golden, wouldDeny: 'would deny' });
    const mutated = fc
      .tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(valid.length + 8))
      .map(([at, xor, len]) => {
        const b = new Uint8Array(len);
        b.set(valid.subarray(0, len));
        if (at < len) b[at]! ^= xor;
        return b;
      });
    const versioned = fc.uint8Array({ maxLength: 600 }).map((b) => Uint8Array.from([2, ...b]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), versioned, mutated), (bytes) => {
        expect(['ok', 'truncated', 'bad-version', 'bad-field', 'trailing-bytes']).toContain(
          decodeCode(bytes),
        );
      }),
      { numRuns: 2000 },
    );
  });
});

// --- signing ----------------------------------------------------------------------------------

describe('signed flow tickets', () => {
  const now = golden.issuedAt + 10;

  it('verify what was signed, with the fields as signed', () => {
    const token = signTicket(golden, privateKey);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(verifyTicket(token, publicKey, now)).toEqual({ ok: true, ticket: golden });
  });

  it('are refused when any single byte or character is changed', () => {
    const token = signTicket(golden, privateKey);
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      for (const xor of [0x01, 0x80, 0xff]) {
        const b = Buffer.from(raw);
        b[i]! ^= xor;
        expect(verifyTicket(b.toString('base64url'), publicKey, now).ok, `byte ${i} ^ ${xor}`).toBe(false);
      }
    }
    // Changing a character also covers the unused low bits of the last one: a second spelling of
    // the same bytes must not pass either.
    for (let i = 0; i < token.length; i++) {
      const c = token[i] === 'A' ? 'B' : 'A';
      const other = token.slice(0, i) + c + token.slice(i + 1);
      expect(verifyTicket(other, publicKey, now).ok, `char ${i}`).toBe(false);
    }
  });

  it('have one spelling only: unused low bits in the last character are refused', () => {
    // Node's base64url decoder ignores those bits, so without a check two tokens would carry the
    // same ticket, and a token-keyed cache or replay filter could be fooled.
    const withPadBits = [1, 2, 3]
      .map((n) => signTicket({ ...golden, wouldDeny: 'x'.repeat(n) }, privateKey))
      .find((t) => Buffer.from(t, 'base64url').length % 3 === 1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(withPadBits.at(-1)!);
    const twin = withPadBits.slice(0, -1) + alphabet[last ^ 0x0f];
    expect(Buffer.from(twin, 'base64url')).toEqual(Buffer.from(withPadBits, 'base64url'));
    expect(verifyTicket(withPadBits, publicKey, now).ok).toBe(true);
    expect(verifyTicket(twin, publicKey, now)).toEqual({
      ok: false,
      code: 'bad-encoding',
      reason: 'malformed ticket: not base64url',
    });
  });

  it('are refused with "bad signature" under another key', () => {
    const other = generateKeyPairSync('ed25519');
    expect(verifyTicket(signTicket(golden, other.privateKey), publicKey, now)).toEqual({
      ok: false,
      code: 'bad-signature',
      reason: 'bad signature',
    });
  });

  it('are refused once expired, naming the time', () => {
    const token = signTicket(golden, privateKey);
    expect(verifyTicket(token, publicKey, golden.expiresAt - 1).ok).toBe(true);
    const expired = { ok: false, code: 'expired', reason: 'ticket expired at 2026-01-01T01:00:00Z' };
    expect(verifyTicket(token, publicKey, golden.expiresAt)).toEqual(expired);
    expect(verifyTicket(token, publicKey, golden.expiresAt + 86_400)).toEqual(expired);
  });

  it('are refused when issued more than a minute in the future (clock skew)', () => {
    const token = signTicket(golden, privateKey);
    expect(verifyTicket(token, publicKey, golden.issuedAt - 60).ok).toBe(true);
    const v = verifyTicket(token, publicKey, golden.issuedAt - 61);
    expect(v).toEqual({
      ok: false,
      code: 'future',
      reason: 'ticket issued in the future (2026-01-01T00:00:00Z); check the clocks',
    });
  });

  it('say what is malformed', () => {
    const token = signTicket(golden, privateKey);
    const raw = Buffer.from(token, 'base64url');
    const short = Buffer.concat([raw.subarray(0, 4), raw.subarray(raw.length - 64)]).toString('base64url');
    expect(verifyTicket(short, publicKey, now)).toEqual({
      ok: false,
      code: 'truncated',
      reason: 'malformed ticket: truncated at keyId',
    });
    expect(verifyTicket('', publicKey, now)).toEqual({
      ok: false,
      code: 'truncated',
      reason: 'malformed ticket: truncated at signature',
    });
    expect(verifyTicket(`${token}!`, publicKey, now)).toEqual({
      ok: false,
      code: 'bad-encoding',
      reason: 'malformed ticket: not base64url',
    });
    expect(verifyTicket('A'.repeat(MAX_TOKEN_LENGTH + 1), publicKey, now)).toEqual({
      ok: false,
      code: 'bad-encoding',
      reason: `malformed ticket: 4097 characters, more than ${MAX_TOKEN_LENGTH}`,
    });
  });

  it('fit in a token of at most 4096 characters even at every maximum size', () => {
    const longest = 'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255';
    const biggest: FlowTicket = {
      ...golden,
      domain: 'd'.repeat(63),
      contract: 'c'.repeat(63),
      src: 's'.repeat(63),
      dst: 't'.repeat(63),
      path: Array.from({ length: 16 }, (_, i) => ({
        name: `${i}`.padEnd(63, 'p'),
        endpoint: `[${longest}]:65535`,
      })),
      dstEndpoint: `[${longest}]:65535`,
      wouldDeny: 'w'.repeat(512),
    };
    const token = signTicket(biggest, privateKey);
    expect(token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
    expect(verifyTicket(token, publicKey, now)).toEqual({ ok: true, ticket: biggest });
  });

  it('are verified with the key their key ID names, and an unknown key ID is reported as such', () => {
    const other = generateKeyPairSync('ed25519');
    const otherId = ticketKeyId(other.publicKey);
    expect(otherId).not.toBe(golden.keyId);
    const keys = new Map([
      [golden.keyId, publicKey],
      [otherId, other.publicKey],
    ]);
    const lookup = (id: number) => keys.get(id);
    const byOther = signTicket({ ...golden, keyId: otherId }, other.privateKey);
    expect(verifyTicket(signTicket(golden, privateKey), lookup, now).ok).toBe(true);
    expect(verifyTicket(byOther, lookup, now).ok).toBe(true);
    // A ticket naming one key but signed by another is a forgery, not a stale ticket.
    expect(verifyTicket(signTicket(golden, other.privateKey), lookup, now)).toEqual({
      ok: false,
      code: 'bad-signature',
      reason: 'bad signature',
    });
    keys.delete(otherId);
    expect(verifyTicket(byOther, lookup, now)).toEqual({
      ok: false,
      code: 'unknown-key',
      reason: `ticket signed by unknown key ${keyIdHex(otherId)} (stale keys: refetching)`,
      unknownKeyId: otherId,
    });
  });

  it('have key IDs that are the first 4 bytes of SHA-256 of the raw public key', () => {
    // sha256(32 bytes of the fixed key's public half), checked once with Python's cryptography package.
    expect(keyIdHex(golden.keyId)).toBe('fe812c12');
    expect(keyIdHex(0x1a)).toBe('0000001a');
  });

  it('refuse non-Ed25519 keys', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => signTicket(golden, rsa.privateKey)).toThrow(TicketError);
    expect(() => signTicket(golden, publicKey)).toThrow(/private key/);
    expect(verifyTicket(signTicket(golden, privateKey), rsa.publicKey, now)).toEqual({
      ok: false,
      code: 'bad-key',
      reason: 'verification key is not Ed25519',
    });
  });

  it('never make verify throw, whatever the token', { timeout: 20_000 }, () => {
    // The timeout guards against a hang; it is not a speed goal.
    const token = signTicket(golden, privateKey);
    const tokens = fc.oneof(
      fc.string({ maxLength: 5000 }),
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.uint8Array({ maxLength: 3000 }).map((b) => Buffer.from(b).toString('base64url')),
      fc
        .tuple(fc.nat(token.length), fc.string({ maxLength: 4 }))
        .map(([at, s]) => token.slice(0, at) + s + token.slice(at + s.length)),
    );
    fc.assert(
      fc.property(tokens, (t) => {
        const v = verifyTicket(t, publicKey, now);
        if (t !== token) expect(v.ok).toBe(false);
        if (!v.ok) expect(v.reason).toBeTruthy();
      }),
      { numRuns: 2000 },
    );
  });
});

// --- addresses and labels ---------------------------------------------------------------------

describe('IPv6 text', () => {
  it('is read in any valid form and written in the node-ID form (8 groups, no "::")', () => {
    expect(bytesToIpv6(ipv6ToBytes('fd32:10d7:b78f:9fc6:240d:8cb4:1db0:4082'))).toBe(
      'fd32:10d7:b78f:9fc6:240d:8cb4:1db0:4082',
    );
    expect(bytesToIpv6(ipv6ToBytes('FD12:3456:789A:0::00ab'))).toBe('fd12:3456:789a:0:0:0:0:ab');
    expect(bytesToIpv6(ipv6ToBytes('::'))).toBe('0:0:0:0:0:0:0:0');
    expect(bytesToIpv6(ipv6ToBytes('1:2:3:4:5:6:7::'))).toBe('1:2:3:4:5:6:7:0');
    expect(bytesToIpv6(ipv6ToBytes('::ffff:10.0.0.1'))).toBe('0:0:0:0:0:ffff:a00:1');
  });

  it('round-trips bytes, and agrees with the URL parser on what the text means', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = bytesToIpv6(b);
        expect(text).toMatch(/^[0-9a-f]{1,4}(:[0-9a-f]{1,4}){7}$/);
        expect(ipv6ToBytes(text)).toEqual(b);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const compressed = (s: string) => new URL(`http://[${s}]/`).hostname;
        expect(compressed(bytesToIpv6(ipv6ToBytes(text)))).toBe(compressed(text));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts exactly what node:net accepts as IPv6 (without zone IDs)', () => {
    const pieces = [
      '0',
      '1',
      'ff',
      'FFFF',
      '12345',
      'g',
      ':',
      '::',
      ':::',
      '1.2.3.4',
      '256.0.0.1',
      '01.2.3.4',
      '.',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 16 }), (parts) => {
        const s = parts.join('');
        let ours = true;
        try {
          ipv6ToBytes(s);
        } catch (e) {
          expect(e).toBeInstanceOf(TicketError);
          ours = false;
        }
        expect(ours, s).toBe(isIPv6(s));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('flow labels', () => {
  it('are 20-bit and never 0', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const l = flowLabel();
      expect(Number.isInteger(l) && l >= 1 && l <= 0xfffff).toBe(true);
      seen.add(l);
    }
    expect(seen.size).toBeGreaterThan(990);
  });
});
