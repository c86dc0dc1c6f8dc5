import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrellisError } from '../../errors.js';
import type { PublishedTicketKey } from '../../model/node.js';
import { type FlowTicket, keyIdHex, signTicket, ticketKeyId } from '../../wire/ticket.js';
import { loadOrCreateTicketKey } from './key.js';

interface RingKey {
  id: number;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** When it starts signing (ms since the epoch); 0 for the first key. */
  activatesAt: number;
  /** When it stops verifying (ms); null while it is the newest key. */
  retiresAt: number | null;
}

/** What ticket-keyring.json holds: every key not yet retired, private halves included. */
interface RingFile {
  keys: { pem: string; activatesAt: number; retiresAt: number | null }[];
}

/**
 * How long a new key is published before it signs: every connected node learns it from the
 * `ticket-keys` event within ~100 ms and refetches in well under a second; 5 s leaves room for
 * a busy orchestrator and a node whose event stream is reconnecting. A node that still missed
 * it answers 412 for the new key's tickets and refetches (docs/identity.md).
 */
export const PROPAGATION_MS = 5_000;
/** The same skew hops tolerate for issuedAt: a ticket may be checked by a clock this far behind. */
const RETIRE_MARGIN_MS = 60_000;
export const KEYRING_FILE = 'ticket-keyring.json';

/**
 * The orchestrator's ticket keys. One signs (the newest one whose activation time has come);
 * all the others keep verifying until every ticket they signed has expired. `ticket.key` from
 * before key rotation is the first key; once a rotation happened, ticket-keyring.json (0600)
 * is the one record of the keys.
 */
export class TicketKeyring {
  #keys: RingKey[];
  /**
   * The last write of ticket-keyring.json, every later one chained behind it: a prune's
   * background save and a rotation's save must not interleave on the one temporary file
   * (one's rename would find it gone), and the newer state must be the one left on disk.
   */
  #saved: Promise<void> = Promise.resolve();

  private constructor(
    keys: RingKey[],
    private readonly file: string | undefined,
  ) {
    this.#keys = keys;
  }

  static async load(dir: string | undefined): Promise<TicketKeyring> {
    const file = dir === undefined ? undefined : join(dir, KEYRING_FILE);
    const text = file ? await readFile(file, 'utf8').catch(() => undefined) : undefined;
    if (text === undefined) {
      const first = await loadOrCreateTicketKey(dir);
      return new TicketKeyring(
        [{ ...first, id: ticketKeyId(first.publicKey), activatesAt: 0, retiresAt: null }],
        file,
      );
    }
    let keys: RingKey[];
    try {
      const parsed = JSON.parse(text) as RingFile;
      if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error('no keys');
      keys = parsed.keys.map((k) => ringKey(createPrivateKey(k.pem), k.activatesAt, k.retiresAt));
    } catch (err) {
      throw new TrellisError(
        'TRELLIS_ERR_UNPROCESSABLE',
        `${file} is not a ticket keyring (${(err as Error).message})`,
        {
          hint: 'restore it from backup; deleting it falls back to ticket.key, and tickets signed by later keys are refused until refreshed',
        },
      );
    }
    return new TicketKeyring(keys, file);
  }

  /** The key that signs now: the newest one already active. */
  signing(now = Date.now()): RingKey {
    this.#prune(now);
    let best = this.#keys[0]!;
    for (const k of this.#keys) if (k.activatesAt <= now && k.activatesAt >= best.activatesAt) best = k;
    return best;
  }

  /** Every key nodes must accept now, the signing one first. */
  published(now = Date.now()): PublishedTicketKey[] {
    const signing = this.signing(now);
    return [signing, ...this.#keys.filter((k) => k !== signing)].map((k) => ({
      id: keyIdHex(k.id),
      publicKeyPem: k.publicKeyPem,
    }));
  }

  /** For operators: every key with its role and times (no private halves). */
  describe(now = Date.now()): {
    id: string;
    signing: boolean;
    activatesAt: string | null;
    retiresAt: string | null;
    publicKeyPem: string;
  }[] {
    const signing = this.signing(now);
    return this.#keys.map((k) => ({
      id: keyIdHex(k.id),
      signing: k === signing,
      activatesAt: k.activatesAt === 0 ? null : new Date(k.activatesAt).toISOString(),
      retiresAt: k.retiresAt === null ? null : new Date(k.retiresAt).toISOString(),
      publicKeyPem: k.publicKeyPem,
    }));
  }

  sign(t: FlowTicket, now = Date.now()): string {
    const k = this.signing(now);
    return signTicket({ ...t, keyId: k.id }, k.privateKey);
  }

  /**
   * Adds a key that signs after PROPAGATION_MS; the key signing until then verifies for one
   * ticket lifetime more (plus clock skew), then is retired. A rotation while another is still
   * propagating is refused: the key in flight would be retired before it ever signed.
   */
  async rotate(
    ticketTtlSec: number,
    now = Date.now(),
  ): Promise<{
    keyId: string;
    activatesAt: string;
    retires: { keyId: string; at: string }[];
  }> {
    const pending = this.#keys.find((k) => k.activatesAt > now);
    if (pending) {
      throw new TrellisError(
        'TRELLIS_ERR_CONFLICT',
        `ticket key ${keyIdHex(pending.id)} is still being published (it signs from ${new Date(pending.activatesAt).toISOString()})`,
        { hint: 'wait a few seconds and rotate again' },
      );
    }
    const activatesAt = now + PROPAGATION_MS;
    const retiresAt = activatesAt + ticketTtlSec * 1000 + RETIRE_MARGIN_MS;
    const retires: { keyId: string; at: string }[] = [];
    for (const k of this.#keys) {
      if (k.retiresAt === null) {
        k.retiresAt = retiresAt;
        retires.push({ keyId: keyIdHex(k.id), at: new Date(retiresAt).toISOString() });
      }
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    const fresh = ringKey(privateKey, activatesAt, null);
    this.#keys.push(fresh);
    await this.#queueSave();
    return { keyId: keyIdHex(fresh.id), activatesAt: new Date(activatesAt).toISOString(), retires };
  }

  /** Changes whenever the signing key does: cached signatures of another key are not reused. */
  generation(now = Date.now()): number {
    return this.signing(now).id;
  }

  #prune(now: number): void {
    const live = this.#keys.filter((k) => k.retiresAt === null || k.retiresAt > now);
    if (live.length === this.#keys.length) return;
    this.#keys = live;
    // Best effort: a retired key left on disk is dropped again at the next load.
    this.#queueSave().catch(() => undefined);
  }

  /** Resolves once every write is on disk (or failed), those queued while it waited too: close awaits it. */
  async settled(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.#saved;
      await last;
    } while (last !== this.#saved);
  }

  #queueSave(): Promise<void> {
    const next = this.#saved.then(() => this.#write());
    this.#saved = next.catch(() => undefined);
    return next;
  }

  async #write(): Promise<void> {
    if (!this.file) return;
    const body: RingFile = {
      keys: this.#keys.map((k) => ({
        pem: k.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        activatesAt: k.activatesAt,
        retiresAt: k.retiresAt,
      })),
    };
    await mkdir(join(this.file, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(body), { mode: 0o600 });
    await chmod(tmp, 0o600);
    await rename(tmp, this.file);
  }
}

function ringKey(privateKey: KeyObject, activatesAt: number, retiresAt: number | null): RingKey {
  const publicKey = createPublicKey(privateKey);
  return {
    id: ticketKeyId(publicKey),
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    activatesAt,
    retiresAt,
  };
}
