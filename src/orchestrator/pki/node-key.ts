import { createPublicKey, ECDH } from 'node:crypto';
import { TrellisError } from '../../errors.js';

const HINT = 'send the SPKI PEM ("-----BEGIN PUBLIC KEY-----") of an ECDSA P-256 key';

/**
 * SPKI of an ECDSA P-256 key up to its point: SEQUENCE { SEQUENCE { id-ecPublicKey,
 * prime256v1 }, BIT STRING { 0 unused bits, 0x04 (uncompressed) … } }. Every such key's DER is
 * these 27 bytes and the point's 64.
 */
const P256_SPKI_HEAD = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex');
const P256_SPKI_BYTES = P256_SPKI_HEAD.length + 64;
/** The PEM every agent sends (node's own export: 64-column base64 of the 91 bytes). */
const P256_PEM =
  /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/]{64})\r?\n([A-Za-z0-9+/]{58}==)\r?\n-----END PUBLIC KEY-----\r?\n?$/;

/**
 * The DER of a P-256 key sent in the usual PEM, without building a KeyObject: createPublicKey
 * and export took 0.6 ms per registration (4.6 % of the orchestrator's CPU while 1,000 agents
 * registered), this 0.05 ms. The point is still checked to be on the curve (ECDH.convertKey
 * refuses one that is not). Undefined for anything else — another layout, a compressed point,
 * another curve, a bad point — which parse() then judges the slow way, with its errors.
 */
function p256Der(pem: string): Buffer | undefined {
  const m = P256_PEM.exec(pem);
  if (!m) return undefined;
  const der = Buffer.from(m[1]! + m[2]!, 'base64');
  if (der.length !== P256_SPKI_BYTES || !der.subarray(0, P256_SPKI_HEAD.length).equals(P256_SPKI_HEAD))
    return undefined;
  try {
    ECDH.convertKey(der.subarray(P256_SPKI_HEAD.length - 1), 'prime256v1');
  } catch {
    return undefined;
  }
  // Its own 91 bytes: a short base64 decode is a slice of Node's shared 8 KB pool, which a kept
  // key would hold alive and a postMessage to the crypto thread would copy whole.
  // (Buffer.from would copy into the pool again; Buffer.alloc never uses it.)
  const own = Buffer.alloc(der.length);
  der.copy(own);
  return own;
}

/**
 * A node's own key, checked once: an ECDSA P-256 public key, never a private one. Registration
 * parses it before its transaction, so a key the CA would refuse is refused before anything is
 * stored (it used to be stored, node `connected` and name bound, and only then refused), and
 * the same parse gives the DER that the node ID, the takeover check and the certificate use —
 * one `createPublicKey` per registration instead of two.
 */
export class NodePublicKey {
  private constructor(
    /** As the node sent it: what the store keeps. */
    readonly pem: string,
    /** The SPKI bytes: compared (PEM line breaks must not matter), hashed into the node ID, put in the certificate. */
    readonly der: Buffer,
  ) {}

  /** `field` names the request field in the error (`body.publicKey` for the API). */
  static parse(pem: string, field = 'publicKey'): NodePublicKey {
    // createPublicKey() would happily derive a public key from a private one; refuse instead, so
    // a misbehaving node learns its private key left the machine.
    if (pem.includes('PRIVATE KEY')) {
      throw new TrellisError('TRELLIS_ERR_VALIDATION', 'publicKey contains a private key', {
        field,
        hint: 'send only the public key; treat this private key as leaked and generate a new one',
      });
    }
    const fast = p256Der(pem);
    if (fast) return new NodePublicKey(pem, fast);
    let key: ReturnType<typeof createPublicKey>;
    try {
      key = createPublicKey(pem);
    } catch {
      throw new TrellisError('TRELLIS_ERR_VALIDATION', 'publicKey is not a PEM public key', {
        field,
        hint: HINT,
      });
    }
    if (key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new TrellisError('TRELLIS_ERR_VALIDATION', 'publicKey must be an ECDSA P-256 public key', {
        field,
        hint: HINT,
      });
    }
    return new NodePublicKey(pem, key.export({ type: 'spki', format: 'der' }));
  }

  /**
   * A key parse() already checked, rebuilt from its parts without a second parse: the crypto
   * thread gets the PEM and DER from the main thread (crypto/thread.ts), which parsed them.
   */
  static checked(pem: string, der: Uint8Array): NodePublicKey {
    return new NodePublicKey(pem, Buffer.from(der.buffer, der.byteOffset, der.byteLength));
  }

  /**
   * A stored node's key, to compare a new one with; undefined when it does not parse as a node
   * key (a row written before registration checked keys up front): it then matches no key, and
   * an admin frees the name (`trellis node reset`).
   */
  static stored(pem: string): NodePublicKey | undefined {
    try {
      return NodePublicKey.parse(pem);
    } catch {
      return undefined;
    }
  }

  equals(other: NodePublicKey): boolean {
    return this.der.equals(other.der);
  }
}
