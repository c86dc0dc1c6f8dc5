import { createHash, randomBytes } from 'node:crypto';

/**
 * Node IDs are IPv6 ULAs: the fabric's /64 prefix + 64 bits of SHA-256 over the node's
 * public key (CGA-like), so a node ID cannot be claimed without the matching private key.
 */
export function nodeIdFor(prefix: string, publicKeyDer: Uint8Array): string {
  const digest = createHash('sha256').update(publicKeyDer).digest();
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((digest[i]! << 8) | digest[i + 1]!).toString(16));
  return `${prefix}:${groups.join(':')}`;
}

/** RFC 4193: fd00::/8 + 40 random bits (global ID) + a 16-bit subnet ID, here 0. */
export function randomFabricPrefix(): string {
  const b = randomBytes(5);
  const g1 = (0xfd00 | b[0]!).toString(16);
  const g2 = ((b[1]! << 8) | b[2]!).toString(16);
  const g3 = ((b[3]! << 8) | b[4]!).toString(16);
  return `${g1}:${g2}:${g3}:0`;
}

/** Contract IDs are shown like the seed's OVS cookies: 0x400186a6. */
export function formatContractId(id: number): string {
  return `0x${id.toString(16).padStart(8, '0')}`;
}
