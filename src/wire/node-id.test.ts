import { describe, expect, it } from 'vitest';
import { formatContractId, nodeIdFor, randomFabricPrefix } from './node-id.js';

describe('node IDs', () => {
  it('are the prefix plus 64 bits of the SHA-256 of the public key (golden)', () => {
    const key = new TextEncoder().encode('public key bytes');
    // sha256("public key bytes") begins 407a 2236 3663 ff71 (computed with openssl, pinned here).
    expect(nodeIdFor('fd32:10d7:b78f:9fc6', key)).toBe('fd32:10d7:b78f:9fc6:407a:2236:3663:ff71');
    expect(nodeIdFor('fd32:10d7:b78f:9fc6', key)).toBe(nodeIdFor('fd32:10d7:b78f:9fc6', key));
    expect(nodeIdFor('fd32:10d7:b78f:9fc6', key)).not.toBe(
      nodeIdFor('fd32:10d7:b78f:9fc6', new Uint8Array([1])),
    );
  });

  it('fabric prefixes are ULAs (fd00::/8) with four groups', () => {
    for (let i = 0; i < 50; i++) expect(randomFabricPrefix()).toMatch(/^fd[0-9a-f]{2}(:[0-9a-f]{1,4}){2}:0$/);
  });

  it('contract IDs print as 8 hex digits', () => {
    expect(formatContractId(0x400186a6)).toBe('0x400186a6');
    expect(formatContractId(1)).toBe('0x00000001');
  });
});
