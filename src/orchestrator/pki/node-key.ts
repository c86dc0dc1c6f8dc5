import { createPublicKey } from 'node:crypto';
import { TrellisError } from '../../errors.js';

const HINT = 'send the SPKI PEM ("-----BEGIN PUBLIC KEY-----") of an ECDSA P-256 key';

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
