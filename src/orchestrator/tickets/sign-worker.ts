import { createPrivateKey, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { type FlowTicket, signTicket } from '../../wire/ticket.js';

/**
 * The ticket signer's thread (signer.ts): encodes and signs batches of tickets off the
 * orchestrator's main thread. It holds the signing keys it was sent (PKCS#8 DER, by key ID),
 * and nothing else: it reads no file and opens no port.
 */
export interface SignRequest {
  id: number;
  keyId: number;
  /** The key's PKCS#8 DER, sent once per key ID. */
  keyDer?: Uint8Array;
  tickets: FlowTicket[];
}

export type SignAnswer = { id: number; tokens: string[] } | { id: number; error: string };

const keys = new Map<number, KeyObject>();

parentPort?.on('message', (m: SignRequest) => {
  try {
    if (m.keyDer)
      keys.set(m.keyId, createPrivateKey({ key: Buffer.from(m.keyDer), format: 'der', type: 'pkcs8' }));
    const key = keys.get(m.keyId);
    if (!key) throw new Error(`no key ${m.keyId} in the signer thread`);
    parentPort!.postMessage({
      id: m.id,
      tokens: m.tickets.map((t) => signTicket({ ...t, keyId: m.keyId }, key)),
    });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: (err as Error).message });
  }
});
