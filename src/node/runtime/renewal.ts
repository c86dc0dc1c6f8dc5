import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError } from '../../api-client/client.js';
import { CLOCK_SKEW_MS } from '../../wire/clock-skew.js';
import { type MtlsIdentity, mtlsServerOptions } from '../identity/tls-options.js';
import { backoffMs } from './backoff.js';
import type { ControlSession, NodeIdentity } from './control.js';

/**
 * The identity a node holds right now. Everything that uses the certificate reads it through
 * here (the session pool when it opens a connection, the mTLS servers via setSecureContext),
 * so a renewal swaps it in one place; connections already open keep the certificate they
 * were made with, and flows on them are never cut.
 */
export class IdentityHolder {
  #current: NodeIdentity;
  readonly #listeners: ((id: NodeIdentity) => void)[] = [];

  constructor(initial: NodeIdentity) {
    this.#current = initial;
  }

  get current(): NodeIdentity {
    return this.#current;
  }

  set(id: NodeIdentity): void {
    this.#current = id;
    for (const l of this.#listeners) l(id);
  }

  onChange(l: (id: NodeIdentity) => void): void {
    this.#listeners.push(l);
  }
}

/** What an mTLS server needs to take a new certificate for its next handshakes. */
export interface SecureContextServer {
  setSecureContext(options: ReturnType<typeof mtlsServerOptions>): void;
}

/** New certificates go to the server's next handshakes; its open connections are untouched. */
export function followIdentity(holder: IdentityHolder, server: SecureContextServer): void {
  holder.onChange((id: MtlsIdentity) => server.setSecureContext(mtlsServerOptions(id)));
}

/** The certificate's validity, with the time it was really issued (notBefore is backdated). */
export function certificateLife(certPem: string, now = Date.now()): { issuedAt: number; notAfter: number } {
  const cert = new X509Certificate(certPem);
  const notAfter = Date.parse(cert.validTo);
  const issuedAt = Math.min(now, Date.parse(cert.validFrom) + CLOCK_SKEW_MS);
  return { issuedAt, notAfter };
}

/** When to renew: at 2/3 of the certificate's life, as issued. */
export function renewAt(certPem: string, now = Date.now()): number {
  const { issuedAt, notAfter } = certificateLife(certPem, now);
  return issuedAt + ((notAfter - issuedAt) * 2) / 3;
}

/**
 * Renews the node's certificate over its authenticated control channel at 2/3 of its life
 * (POST /api/v1/nodes/:name/certificate, for the key it registered), then swaps it into the
 * holder and rewrites the cached identity.json. While the orchestrator is unreachable it
 * retries with backoff (up to 30 s apart); an existing flow never depends on it.
 */
export function startRenewal(o: {
  control: ControlSession;
  holder: IdentityHolder;
  name: string;
  publicKeyPem: string;
  log: Logger;
}): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let attempt = 0;
  const schedule = (delayMs: number) => {
    if (stopped) return;
    // setTimeout overflows past ~24.8 days; a 7-day certificate is well under that.
    timer = setTimeout(() => void renew(), Math.max(0, Math.min(delayMs, 2 ** 31 - 1)));
    timer.unref();
  };
  const renew = async () => {
    const before = o.holder.current;
    try {
      const res = await o.control.call((api) => api.renewNodeCertificate(o.name, o.publicKeyPem));
      const next: NodeIdentity = {
        ...o.holder.current,
        certPem: res.certPem,
        node: { ...o.holder.current.node, certNotAfter: res.certNotAfter },
      };
      o.holder.set(next);
      await o.control.saveIdentity(next);
      attempt = 0;
      o.log.info({ certNotAfter: res.certNotAfter }, 'node certificate renewed');
      schedule(renewAt(next.certPem) - Date.now());
    } catch (err) {
      const expires = new Date(certificateLife(before.certPem).notAfter).toISOString();
      const refused = err instanceof ApiError && err.status >= 400 && err.status < 500;
      // A refusal (the node was deleted, or its key changed) will not mend by itself: say so
      // loudly, and keep asking slowly in case an operator fixes it.
      o.log[refused ? 'error' : 'warn'](
        { err: (err as Error).message, certNotAfter: expires, orchestrator: o.control.opts.orchestrator },
        `node ${o.name}: certificate renewal failed; retrying (the certificate expires at ${expires})`,
      );
      schedule(refused ? 30_000 : backoffMs(attempt++, 1_000, 30_000));
    }
  };
  schedule(renewAt(o.holder.current.certPem) - Date.now());
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
