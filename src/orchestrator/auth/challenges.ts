import { randomBytes, verify } from 'node:crypto';

/**
 * One-time challenges a registered node signs with its own key to open a session, so a node
 * never needs its owner's password after it joined: nobody guessing that password can keep
 * it off the fabric. In memory: a challenge lives seconds, and a restart only makes nodes ask
 * again.
 */
export class NodeChallenges {
  readonly #open = new Map<string, { node: string; expires: number }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly max = 20_000,
    private readonly now: () => number = Date.now,
  ) {}

  issue(node: string): string {
    const challenge = randomBytes(32).toString('base64url');
    this.#open.set(challenge, { node, expires: this.now() + this.ttlMs });
    // Oldest first in a Map: under a flood, the stalest challenges go.
    while (this.#open.size > this.max) this.#open.delete(this.#open.keys().next().value!);
    return challenge;
  }

  /** True once per challenge issued for `node` and still fresh; it is consumed either way. */
  take(node: string, challenge: string): boolean {
    const c = this.#open.get(challenge);
    this.#open.delete(challenge);
    return c !== undefined && c.node === node && c.expires > this.now();
  }
}

/** What a node signs: the context string keeps the node key's signature useless anywhere else. */
export function nodeLoginMessage(node: string, challenge: string): Buffer {
  return Buffer.from(`trellis-node-login\0${node}\0${challenge}`);
}

export function verifyNodeLogin(
  publicKeyPem: string,
  node: string,
  challenge: string,
  signature: string,
): boolean {
  try {
    return verify(
      'sha256',
      nodeLoginMessage(node, challenge),
      publicKeyPem,
      Buffer.from(signature, 'base64url'),
    );
  } catch {
    return false;
  }
}
