import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrellisError } from '../../errors.js';
import { NodePublicKey } from './node-key.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function p256Pem(): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** What parse() decided before its fast path: OpenSSL's parse, P-256 only, the DER it exports. */
function reference(pem: string): Buffer | 'refused' {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return 'refused';
    return key.export({ type: 'spki', format: 'der' });
  } catch {
    return 'refused';
  }
}

function parsed(pem: string): Buffer | 'refused' {
  try {
    return NodePublicKey.parse(pem).der;
  } catch (err) {
    expect(err).toBeInstanceOf(TrellisError);
    return 'refused';
  }
}

describe('NodePublicKey.parse: the fast path for the usual PEM decides as OpenSSL does', () => {
  it("takes an agent's key as it sends it, and the same key in another layout, to the same DER", () => {
    const pem = p256Pem();
    const der = createPublicKey(pem).export({ type: 'spki', format: 'der' });
    expect(NodePublicKey.parse(pem).der.equals(der)).toBe(true);
    // Its own 91 bytes, not a view into Node's shared 8 KB pool (which a kept key would hold and
    // a postMessage to the crypto thread would copy whole: the session 11 review).
    expect(NodePublicKey.parse(pem).der.buffer.byteLength).toBe(91);
    // CRLF, one long line, no final newline: judged the slow way, same key.
    const body = pem.split('\n').slice(1, -2).join('');
    for (const other of [
      pem.replaceAll('\n', '\r\n'),
      `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`,
      pem.trimEnd(),
    ])
      expect(NodePublicKey.parse(other).equals(NodePublicKey.parse(pem))).toBe(true);
  });

  it('refuses a point off the curve, another curve and a private key, naming the field', () => {
    const pem = p256Pem();
    // The last point byte changed: the usual layout, the P-256 prefix, no longer on the curve.
    const lines = pem.split('\n');
    const last = lines[2]!;
    const i = last.length - 4;
    lines[2] = `${last.slice(0, i)}${last[i] === 'A' ? 'B' : 'A'}${last.slice(i + 1)}`;
    expect(reference(lines.join('\n'))).toBe('refused');
    expect(() => NodePublicKey.parse(lines.join('\n'), 'body.publicKey')).toThrow(
      expect.objectContaining({
        message: 'publicKey is not a PEM public key',
        field: 'body.publicKey',
      }),
    );
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    expect(() => NodePublicKey.parse(p384.toString())).toThrow('publicKey must be an ECDSA P-256 public key');
    const priv = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(() => NodePublicKey.parse(priv.toString())).toThrow('publicKey contains a private key');
  });

  it('any one character of the base64 changed: accepted with the same DER, or refused, exactly when OpenSSL does', () => {
    const pem = p256Pem();
    const start = pem.indexOf('\n') + 1;
    const end = pem.indexOf('\n-----END');
    const at = fc.integer({ min: start, max: end - 1 }).filter((i) => pem[i] !== '\n');
    fc.assert(
      fc.property(at, fc.constantFrom(...B64, '=', '-', ' '), (i, c) => {
        const mutated = pem.slice(0, i) + c + pem.slice(i + 1);
        const want = reference(mutated);
        const got = parsed(mutated);
        if (want === 'refused') expect(got).toBe('refused');
        else expect(got !== 'refused' && got.equals(want)).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});
