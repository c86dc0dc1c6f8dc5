import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type FlowTicket, signTicket } from '../../wire/ticket.js';
import { type FabricCa, issueNodeCertificate, type NodeCertificateRequest } from '../pki/ca.js';
import type { CryptoAnswer, CryptoRequest } from './worker.js';

/** The signing key of a batch: its ID and private half (TicketKeyring.signing()). */
export interface SigningKey {
  id: number;
  privateKey: KeyObject;
}

type Request = CryptoRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/**
 * The orchestrator's signatures, in a worker thread. A contract change re-signs every ticket of
 * the contract (10,000 Ed25519 signatures and encodings for 100 agents of 100 servers: ~40 % of
 * the main thread in the change), and each registration issues a certificate (@peculiar/x509
 * and asn1js in JavaScript: ~2 ms, 13 % of the main thread while 1,000 agents register;
 * docs/benchmarks.md), while the second core sat idle; here the main thread only waits. If the
 * thread cannot start (running from TypeScript sources, as the in-process tests do) or dies,
 * the work is done on the main thread, as before.
 */
export class CryptoThread {
  #worker: Worker | undefined;
  #next = 0;
  readonly #pending = new Map<number, { resolve: (a: CryptoAnswer) => void; reject: (e: Error) => void }>();
  /** Ticket key IDs the thread holds already. */
  readonly #keys = new Set<number>();
  /** The CA the thread holds. */
  #ca: FabricCa | undefined;

  constructor(useWorker = true) {
    const file = fileURLToPath(new URL('./worker.js', import.meta.url));
    if (!useWorker || !existsSync(file)) return;
    const w = new Worker(file);
    w.unref();
    w.on('message', (m: CryptoAnswer) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m);
    });
    const gone = (err: Error) => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`crypto thread exited (${code})`)));
    this.#worker = w;
  }

  /** Whether work goes to the thread (false: done on the main thread). */
  get threaded(): boolean {
    return this.#worker !== undefined;
  }

  async signTickets(tickets: FlowTicket[], key: SigningKey): Promise<string[]> {
    const here = () => tickets.map((t) => signTicket({ ...t, keyId: key.id }, key.privateKey));
    if (!this.#worker || tickets.length === 0) return here();
    const m: Request = { op: 'tickets', keyId: key.id, tickets };
    if (!this.#keys.has(key.id)) {
      m.keyDer = new Uint8Array(key.privateKey.export({ format: 'der', type: 'pkcs8' }));
      this.#keys.add(key.id);
    }
    const a = await this.#call(m);
    return a && 'tokens' in a ? a.tokens : here();
  }

  /** A node certificate (pki/ca.ts issueNodeCertificate), signed by `ca`. A NodePublicKey goes to the thread as checked (its DER), a PEM string is parsed there. */
  async issueCertificate(
    ca: FabricCa,
    req: NodeCertificateRequest,
  ): Promise<{ certPem: string; notAfter: string }> {
    if (!this.#worker) return issueNodeCertificate(ca, req);
    const { publicKey, notBefore, notAfter, ...rest } = req;
    const m: Request = {
      op: 'certificate',
      req: {
        ...rest,
        addresses: [...rest.addresses],
        ...(typeof publicKey === 'string'
          ? { publicKey }
          : { publicKey: publicKey.pem, publicKeyDer: publicKey.der }),
        ...(notBefore && { notBefore: notBefore.getTime() }),
        ...(notAfter && { notAfter: notAfter.getTime() }),
      },
    };
    if (this.#ca !== ca) {
      m.ca = { certPem: ca.certPem, keyPem: ca.keyPem };
      this.#ca = ca;
    }
    const a = await this.#call(m);
    return a && 'certPem' in a ? { certPem: a.certPem, notAfter: a.notAfter } : issueNodeCertificate(ca, req);
  }

  /**
   * One request to the thread; undefined when it failed there or the thread is gone: the caller
   * then does the work itself, so an error is thrown on the main thread with its own code (a
   * refused name is a 400 there, a bare message from the thread would be a 500), and once the
   * thread is gone every call after it is done here too.
   */
  async #call(m: Request): Promise<CryptoAnswer | undefined> {
    const w = this.#worker;
    if (!w) return undefined;
    const id = ++this.#next;
    try {
      return await new Promise<CryptoAnswer>((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        w.postMessage({ ...m, id });
      });
    } catch {
      if (this.#worker !== w) {
        this.#keys.clear();
        this.#ca = undefined;
      }
      return undefined;
    }
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    await w?.terminate();
  }
}
