import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FlowTicket, keyIdHex, ticketKeyId, verifyTicket } from '../../wire/ticket.js';
import { loadOrCreateTicketKey } from './key.js';
import { KEYRING_FILE, PROPAGATION_MS, TicketKeyring } from './keyring.js';

const t0 = Date.UTC(2026, 11, 1);
const ticket = (nowMs: number): FlowTicket => ({
  version: 2,
  keyId: 0,
  contractId: 7,
  policyEpoch: 1,
  issuedAt: Math.floor(nowMs / 1000),
  expiresAt: Math.floor(nowMs / 1000) + 120,
  srcNodeId: 'fd00::1',
  dstNodeId: 'fd00::2',
  domain: 'hello',
  contract: 'hello',
  src: 'aws-11',
  dst: 'gcp-11',
  path: [{ name: 'aws-p1', endpoint: '127.0.41.1:7500' }],
  dstEndpoint: '127.0.42.12:7443',
  wouldDeny: null,
  proxyProtocol: false,
});

describe('ticket keyring', () => {
  const dirs: string[] = [];
  const dataDir = async () => {
    const d = await mkdtemp(join(tmpdir(), 'trellis-keyring-'));
    dirs.push(d);
    return d;
  };
  afterEach(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('starts from the existing ticket.key as its first key', async () => {
    const dir = await dataDir();
    const legacy = await loadOrCreateTicketKey(dir);
    const ring = await TicketKeyring.load(dir);
    expect(ring.published(t0)).toEqual([
      { id: keyIdHex(ticketKeyId(legacy.publicKey)), publicKeyPem: legacy.publicKeyPem },
    ]);
    const token = ring.sign(ticket(t0), t0);
    expect(verifyTicket(token, legacy.publicKey, t0 / 1000 + 1).ok).toBe(true);
  });

  it('publishes a new key at once, signs with it after the propagation delay, retires the old one after its tickets expired', async () => {
    const dir = await dataDir();
    const ring = await TicketKeyring.load(dir);
    const old = ring.published(t0)[0]!;
    const r = await ring.rotate(120, t0);
    expect(r.activatesAt).toBe(new Date(t0 + PROPAGATION_MS).toISOString());
    // Retired one ticket lifetime (120 s) plus a minute of clock skew after the new key signs.
    expect(r.retires).toEqual([{ keyId: old.id, at: new Date(t0 + PROPAGATION_MS + 180_000).toISOString() }]);
    // Both are published from the start; the old one still signs until the activation.
    expect(ring.published(t0).map((k) => k.id)).toEqual([old.id, r.keyId]);
    const keyOf = (token: string) => keyIdHex(Buffer.from(token, 'base64url').readUInt32BE(2));
    expect(keyOf(ring.sign(ticket(t0), t0 + PROPAGATION_MS - 1))).toBe(old.id);
    expect(keyOf(ring.sign(ticket(t0), t0 + PROPAGATION_MS))).toBe(r.keyId);
    expect(ring.published(t0 + PROPAGATION_MS).map((k) => k.id)).toEqual([r.keyId, old.id]);
    // The last ticket the old key signed expires 120 s after the activation; it is still published then.
    expect(ring.published(t0 + PROPAGATION_MS + 120_000).map((k) => k.id)).toContain(old.id);
    expect(ring.published(t0 + PROPAGATION_MS + 180_000).map((k) => k.id)).toEqual([r.keyId]);
    // That prune rewrote the file in the background; the data dir is removed after it.
    await ring.settled();
  });

  it('refuses a second rotation while a new key is still being published, naming it', async () => {
    const ring = await TicketKeyring.load(await dataDir());
    const r = await ring.rotate(120, t0);
    await expect(ring.rotate(120, t0 + 1_000)).rejects.toThrow(
      `ticket key ${r.keyId} is still being published`,
    );
    await expect(ring.rotate(120, t0 + PROPAGATION_MS)).resolves.toBeDefined();
  });

  it('keeps its keys across restarts in a 0600 file', async () => {
    const dir = await dataDir();
    const ring = await TicketKeyring.load(dir);
    const r = await ring.rotate(120, Date.now());
    const again = await TicketKeyring.load(dir);
    expect(
      again
        .published()
        .map((k) => k.id)
        .sort(),
    ).toEqual(
      ring
        .published()
        .map((k) => k.id)
        .sort(),
    );
    expect(again.published().map((k) => k.id)).toContain(r.keyId);
    expect((await stat(join(dir, KEYRING_FILE))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dir, KEYRING_FILE), 'utf8')).toContain('PRIVATE KEY');
  });

  // Regression: a prune saved the keyring in the background while a rotation saved it too;
  // both wrote and renamed one ticket-keyring.json.tmp, so one rename found it gone (ENOENT)
  // and the rotation failed, and a test's rm of the data dir raced the stray write (ENOTEMPTY).
  it('writes the keyring one save at a time, the newest state last, and says when it is done', async () => {
    const dir = await dataDir();
    const ring = await TicketKeyring.load(dir);
    await ring.rotate(120, t0);
    const far = t0 + PROPAGATION_MS + 180_000;
    // This prunes the retired first key and saves in the background ...
    expect(ring.published(far)).toHaveLength(1);
    // ... while a rotation saves at once.
    const r = await ring.rotate(120, far);
    await ring.settled();
    const onDisk = JSON.parse(await readFile(join(dir, KEYRING_FILE), 'utf8')) as { keys: unknown[] };
    expect(onDisk.keys).toHaveLength(2);
    const again = await TicketKeyring.load(dir);
    expect(again.published(far).map((k) => k.id)).toContain(r.keyId);
    expect(await readdir(dir)).not.toContain(`${KEYRING_FILE}.tmp`);
  });
});
