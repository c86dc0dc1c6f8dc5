import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type FlowTicket, signTicket } from '../../wire/ticket.js';
import type { SignAnswer, SignRequest } from './sign-worker.js';

/** The signing key of a batch: its ID and private half (TicketKeyring.signing()). */
export interface SigningKey {
  id: number;
  privateKey: KeyObject;
}

/**
 * Signs batches of tickets in a worker thread. A contract change re-signs every ticket of the
 * contract (10,000 Ed25519 signatures and encodings for 100 agents of 100 servers: ~40 % of the
 * main thread in the change, docs/benchmarks.md), while the second core sat idle; here the
 * main thread only waits. If the thread cannot start (running from TypeScript sources, as the
 * in-process tests do) or dies, tickets are signed on the main thread, as before.
 */
export class TicketSigner {
  #worker: Worker | undefined;
  #next = 0;
  readonly #pending = new Map<number, { resolve: (t: string[]) => void; reject: (e: Error) => void }>();
  /** Key IDs the thread holds already. */
  readonly #sent = new Set<number>();

  constructor(useWorker = true) {
    const file = fileURLToPath(new URL('./sign-worker.js', import.meta.url));
    if (!useWorker || !existsSync(file)) return;
    const w = new Worker(file);
    w.unref();
    w.on('message', (m: SignAnswer) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if ('error' in m) p.reject(new Error(m.error));
      else p.resolve(m.tokens);
    });
    const gone = (err: Error) => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      for (const p of this.#pending.values()) p.reject(err);
      this.#pending.clear();
    };
    w.on('error', gone);
    w.on('exit', (code) => gone(new Error(`ticket signer thread exited (${code})`)));
    this.#worker = w;
  }

  /** Whether batches go to the thread (false: signed on the main thread). */
  get threaded(): boolean {
    return this.#worker !== undefined;
  }

  async sign(tickets: FlowTicket[], key: SigningKey): Promise<string[]> {
    const w = this.#worker;
    if (!w || tickets.length === 0)
      return tickets.map((t) => signTicket({ ...t, keyId: key.id }, key.privateKey));
    const id = ++this.#next;
    const m: SignRequest = { id, keyId: key.id, tickets };
    if (!this.#sent.has(key.id)) {
      m.keyDer = new Uint8Array(key.privateKey.export({ format: 'der', type: 'pkcs8' }));
      this.#sent.add(key.id);
    }
    try {
      return await new Promise<string[]>((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        w.postMessage(m);
      });
    } catch {
      // The thread died (or refused): these are signed here, and so is every batch after it.
      this.#sent.clear();
      return tickets.map((t) => signTicket({ ...t, keyId: key.id }, key.privateKey));
    }
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    await w?.terminate();
  }
}
