import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrellisError } from '../../errors.js';

export interface TicketKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicKeyPem: string;
}

/**
 * The Ed25519 key that signs flow tickets, kept in the data dir next to the CA. Every hop
 * holds the public half, so tickets verify even while the orchestrator is down.
 */
export async function loadOrCreateTicketKey(dir: string | undefined): Promise<TicketKey> {
  const file = dir === undefined ? undefined : join(dir, 'ticket.key');
  let pem: string | undefined;
  if (file) {
    pem = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
  }
  // Only a missing file means "first start": an empty or cut-short one is damage, and a new key
  // would make every node refuse every ticket (`bad signature`) until it refetched the keys.
  if (pem !== undefined && file) return fromPem(pem, file);
  if (pem === undefined) {
    pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    if (file && dir) {
      await mkdir(dir, { recursive: true });
      await writeFile(file, pem, { mode: 0o600 });
      await chmod(file, 0o600);
    }
  }
  return fromPem(pem, file);
}

function fromPem(pem: string, file: string | undefined): TicketKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new TrellisError(
      'TRELLIS_ERR_UNAVAILABLE',
      `${file} is damaged: not an Ed25519 private key (${(err as Error).message})`,
      {
        hint: `restore it from backup (trellis orchestrator --restore BACKUP --data-dir NEW_DIR); a new key would make every node refuse every ticket`,
      },
    );
  }
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
