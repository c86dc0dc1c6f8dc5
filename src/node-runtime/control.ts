import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ApiClient, ApiError } from '../api-client/client.js';
import type { FabricNode } from '../model/index.js';
import { backoffMs, sleep } from './backoff.js';
import { SseParser } from './sse.js';

export interface ControlOptions {
  orchestrator: string;
  username: string;
  domain?: string;
  password: string;
  stateDir: string;
  log: Logger;
}

export interface NodeIdentity {
  node: FabricNode;
  certPem: string;
  keyPem: string;
  caPem: string;
  ticketPublicKeyPem: string;
  /** Every key tickets may be signed with (a rotation publishes two); absent when cached by an older node. */
  ticketKeys?: { id: string; publicKeyPem: string }[];
}

export interface Registration {
  name: string;
  addresses: string[];
  processors: string[];
  endpoint: string;
  publicKeyPem: string;
}

/**
 * A data-plane node's link to the orchestrator: login (again on 401), registration,
 * heartbeats and the event stream. The node's identity is cached in its state dir so a
 * restart while the orchestrator is down still serves traffic (on unexpired tickets).
 */
export class ControlSession {
  #api: ApiClient;
  #token: string | undefined;
  #stopped = false;
  readonly #timers: NodeJS.Timeout[] = [];
  #abort = new AbortController();
  #streamOpen = false;

  constructor(readonly opts: ControlOptions) {
    this.#api = new ApiClient(opts.orchestrator);
  }

  /** Calls the API with a fresh token, logging in (again) when needed. */
  async call<T>(fn: (api: ApiClient) => Promise<T>): Promise<T> {
    if (!this.#token) await this.#login();
    try {
      return await fn(this.#api.withToken(this.#token!));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        await this.#login();
        return fn(this.#api.withToken(this.#token!));
      }
      throw err;
    }
  }

  async #login(): Promise<void> {
    const res = await this.#api.login(this.opts.username, this.opts.password, this.opts.domain);
    this.#token = res.token;
  }

  get token(): string | undefined {
    return this.#token;
  }

  /** Registers (retrying while the orchestrator is unreachable) and caches the identity. */
  async register(reg: Registration, keyPem: string): Promise<NodeIdentity> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.call((api) =>
          api.request<Omit<NodeIdentity, 'keyPem'>>('POST', '/api/v1/nodes/register', {
            name: reg.name,
            addresses: reg.addresses,
            processors: reg.processors,
            endpoint: reg.endpoint,
            publicKey: reg.publicKeyPem,
          }),
        );
        const id: NodeIdentity = { ...res, keyPem };
        await this.saveIdentity(id);
        return id;
      } catch (err) {
        // Refusals (bad password, undeclared processor) are final; an unreachable orchestrator is not.
        const cached = await this.cachedIdentity();
        if (err instanceof ApiError && err.status !== 0 && err.status < 500) throw err;
        const expiredAt = cached && certificateExpired(cached.certPem);
        if (cached && expiredAt) {
          // Serving with an expired certificate would only fail every handshake, and look like a
          // network fault: say what is wrong and wait for the orchestrator instead.
          if (attempt % 20 === 0) {
            this.opts.log.error(
              {
                node: reg.name,
                certNotAfter: expiredAt,
                orchestrator: this.opts.orchestrator,
                err: (err as Error).message,
              },
              `node ${reg.name}: cached identity expired at ${expiredAt} and the orchestrator at ${this.opts.orchestrator} is unreachable; retrying (not serving with an expired certificate)`,
            );
          }
        } else if (cached && attempt === 0) {
          this.opts.log.warn(
            { err: (err as Error).message },
            'orchestrator unreachable; starting from the cached identity',
          );
          return cached;
        }
        if (this.#stopped) throw err;
        // A timer that holds the process open: with nothing else running yet (no server, no
        // stream), backoff.ts's unref'd sleep let the process exit 0 in the middle of retrying.
        await new Promise((r) => setTimeout(r, backoffMs(attempt, 250, expiredAt ? 3_000 : 5_000)));
      }
    }
  }

  /** identity.json holds the node's private key: 0600, written whole (renamed into place). */
  async saveIdentity(id: NodeIdentity): Promise<void> {
    await mkdir(this.opts.stateDir, { recursive: true, mode: 0o700 });
    const file = join(this.opts.stateDir, 'identity.json');
    await writeFile(`${file}.tmp`, JSON.stringify(id), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  async cachedIdentity(): Promise<NodeIdentity | undefined> {
    try {
      return JSON.parse(await readFile(join(this.opts.stateDir, 'identity.json'), 'utf8')) as NodeIdentity;
    } catch {
      return undefined;
    }
  }

  /** Heartbeats while the event stream is down (an open stream is itself the liveness signal). */
  heartbeat(node: string, everyMs = 2_000): void {
    const t = setInterval(() => {
      if (this.#streamOpen) return;
      this.call((api) => api.request('POST', `/api/v1/nodes/${node}/heartbeat`)).catch(() => undefined);
    }, everyMs);
    t.unref();
    this.#timers.push(t);
  }

  /**
   * Holds the event stream open (it also tells the orchestrator the node is alive) and calls
   * onEvent for each event; after a reconnect the `hello` event carries the current epoch,
   * so the node resyncs whatever it missed.
   */
  events(node: string, onEvent: (event: string, data: unknown) => void): void {
    void (async () => {
      for (let attempt = 0; !this.#stopped; attempt++) {
        try {
          if (!this.#token) await this.#login();
          const res = await fetch(
            new URL(`/api/v1/events?node=${encodeURIComponent(node)}`, this.opts.orchestrator),
            {
              headers: { authorization: `Bearer ${this.#token}`, accept: 'text/event-stream' },
              signal: this.#abort.signal,
            },
          );
          if (res.status === 401) {
            this.#token = undefined;
            continue;
          }
          if (!res.ok || !res.body) throw new Error(`events: HTTP ${res.status}`);
          attempt = 0;
          this.#streamOpen = true;
          const parser = new SseParser();
          const decoder = new TextDecoder();
          for await (const chunk of res.body) {
            for (const m of parser.push(decoder.decode(chunk as Uint8Array, { stream: true })))
              onEvent(m.event, m.data);
          }
        } catch (err) {
          if (this.#stopped) return;
          this.opts.log.debug({ err: (err as Error).message }, 'event stream lost; reconnecting');
        }
        this.#streamOpen = false;
        await sleep(backoffMs(attempt));
      }
    })();
  }

  stop(): void {
    this.#stopped = true;
    this.#abort.abort();
    for (const t of this.#timers) clearInterval(t);
  }
}

/** The certificate's notAfter (ISO 8601) if it has passed, else undefined. */
function certificateExpired(certPem: string, now = Date.now()): string | undefined {
  try {
    const notAfter = Date.parse(new X509Certificate(certPem).validTo);
    return notAfter <= now ? new Date(notAfter).toISOString() : undefined;
  } catch {
    return 'an unreadable date';
  }
}
