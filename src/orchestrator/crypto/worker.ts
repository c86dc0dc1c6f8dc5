import { createPrivateKey, type KeyObject } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { type FlowTicket, signTicket } from '../../wire/ticket.js';
import { type FabricCa, issueNodeCertificate, type NodeCertificateRequest } from '../pki/ca.js';
import { NodePublicKey } from '../pki/node-key.js';

/**
 * The orchestrator's crypto thread (thread.ts): signs batches of tickets and issues node
 * certificates off the main thread. It holds only what it was sent — ticket signing keys
 * (PKCS#8 DER, by key ID) and the fabric CA — and reads no file and opens no port.
 */
export type CryptoRequest =
  | {
      id: number;
      op: 'tickets';
      keyId: number;
      /** The key's PKCS#8 DER, sent once per key ID. */
      keyDer?: Uint8Array;
      tickets: FlowTicket[];
    }
  | {
      id: number;
      op: 'certificate';
      /** The CA, sent when it is not the one the thread holds. */
      ca?: { certPem: string; keyPem: string };
      /**
       * The node's key as PEM, with its DER when the main thread already parsed it
       * (NodePublicKey): then it is not parsed again; a PEM alone is checked here. Dates as ms.
       */
      req: Omit<NodeCertificateRequest, 'publicKey' | 'notBefore' | 'notAfter'> & {
        publicKey: string;
        publicKeyDer?: Uint8Array;
        notBefore?: number;
        notAfter?: number;
      };
    };

export type CryptoAnswer =
  | { id: number; tokens: string[] }
  | { id: number; certPem: string; notAfter: string }
  | { id: number; error: string };

const keys = new Map<number, KeyObject>();
let ca: FabricCa | undefined;

async function answer(m: CryptoRequest): Promise<CryptoAnswer> {
  if (m.op === 'tickets') {
    if (m.keyDer)
      keys.set(m.keyId, createPrivateKey({ key: Buffer.from(m.keyDer), format: 'der', type: 'pkcs8' }));
    const key = keys.get(m.keyId);
    if (!key) throw new Error(`no key ${m.keyId} in the crypto thread`);
    return { id: m.id, tokens: m.tickets.map((t) => signTicket({ ...t, keyId: m.keyId }, key)) };
  }
  if (m.ca) ca = { ...m.ca, key: createPrivateKey(m.ca.keyPem) };
  if (!ca) throw new Error('no CA in the crypto thread');
  const { notBefore, notAfter, publicKey, publicKeyDer, ...rest } = m.req;
  const issued = await issueNodeCertificate(ca, {
    ...rest,
    publicKey: publicKeyDer ? NodePublicKey.checked(publicKey, publicKeyDer) : publicKey,
    ...(notBefore !== undefined && { notBefore: new Date(notBefore) }),
    ...(notAfter !== undefined && { notAfter: new Date(notAfter) }),
  });
  return { id: m.id, ...issued };
}

parentPort?.on('message', (m: CryptoRequest) => {
  answer(m).then(
    (a) => parentPort!.postMessage(a),
    (err: unknown) => parentPort!.postMessage({ id: m.id, error: (err as Error).message }),
  );
});
