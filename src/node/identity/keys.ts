import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TrellisError } from '../../errors.js';

export interface NodeKey {
  /** PKCS#8 PEM; never leaves this machine. */
  privateKeyPem: string;
  /** SPKI PEM; sent to the orchestrator when registering, which returns a certificate for it. */
  publicKeyPem: string;
}

/**
 * The node's own ECDSA P-256 key, kept across restarts in dir/node.key (0600) so its
 * registration and node ID stay stable. dir/node.pub is a convenience copy, always re-derived
 * from the private key so it can never disagree with it.
 */
export async function loadOrCreateNodeKey(dir: string): Promise<NodeKey> {
  const keyPath = join(dir, 'node.key');
  const pubPath = join(dir, 'node.pub');
  let privateKeyPem = await readIfExists(keyPath);
  if (privateKeyPem === undefined) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      await writeFile(keyPath, privateKeyPem, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process on this machine created it first; use theirs so both agree.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      privateKeyPem = await readFile(keyPath, 'utf8');
    }
  }
  const privateKey = parseNodeKey(privateKeyPem, keyPath);
  const publicKeyPem = createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
  if ((await readIfExists(pubPath)) !== publicKeyPem) await writeFile(pubPath, publicKeyPem, { mode: 0o644 });
  return { privateKeyPem, publicKeyPem };
}

function parseNodeKey(pem: string, path: string): KeyObject {
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(pem);
  } catch {
    key = undefined;
  }
  // The fabric CA certifies P-256 keys only; any other key would fail at registration instead.
  if (key?.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TrellisError('TRELLIS_ERR_UNPROCESSABLE', `${path} is not an ECDSA P-256 private key`, {
      hint: `delete ${path} to generate a new key (the node then registers as a new identity)`,
    });
  }
  return key;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
