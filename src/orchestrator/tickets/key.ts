import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

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
  if (file) pem = await readFile(file, 'utf8').catch(() => undefined);
  if (!pem) {
    pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    if (file && dir) {
      await mkdir(dir, { recursive: true });
      await writeFile(file, pem, { mode: 0o600 });
      await chmod(file, 0o600);
    }
  }
  const privateKey = createPrivateKey(pem);
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
