import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ApiClient, ApiError } from '../api-client/client.js';
import type { FabricNode } from '../model/index.js';
import { backoffMs, sleep } from './backoff.js';
import { waitingOutRateLimits } from './rate-limit.js';
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

  #loggingIn: Promise<void> | undefined;

  /** One login at a time (heartbeats, events and registration may all ask), 429s waited out. */
  #login(): Promise<void> {
    this.#loggingIn ??= waitingOutRateLimits(
      () => this.#api.login(this.opts.username, this.opts.password, this.opts.domain),
      { log: this.opts.log, what: 'login', stopped: () => this.#stopped },
    )
      .then((res) => {
        this.#token = res.token;
      })
      .finally(() => {
        this.#loggingIn = undefined;
      });
    return this.#loggingIn;
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
        await mkdir(this.opts.stateDir, { recursive: true });
        await writeFile(join(this.opts.stateDir, 'identity.json'), JSON.stringify(id), { mode: 0o600 });
        return id;
      } catch (err) {
        // Refusals (bad password, undeclared processor) are final; an unreachable orchestrator
        // is not, nor a 429 (logins wait those out; anything else rate-limited is retried).
        const cached = await this.cachedIdentity();
        if (err instanceof ApiError && err.status !== 0 && err.status < 500 && err.status !== 429) throw err;
        if (cached && attempt === 0) {
          this.opts.log.warn(
            { err: (err as Error).message },
            'orchestrator unreachable; starting from the cached identity',
          );
          return cached;
        }
        if (this.#stopped) throw err;
        await sleep(backoffMs(attempt));
      }
    }
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
