import { sign, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ApiClient, ApiError } from '../../api-client/client.js';
import { pinnedFetch, type TrustSource } from '../../api-client/trust.js';
import { TrellisError } from '../../errors.js';
import type { FabricNode } from '../../model/index.js';
import { backoffMs, sleep } from './backoff.js';
import { BEAT_MS, BEAT_STREAM_TYPE } from './beat.js';
import { BeatStream } from './beat-stream.js';
import { nodeTrust } from './orchestrator-trust.js';
import { waitingOutRateLimits } from './rate-limit.js';
import { SseParser } from './sse.js';

export interface ControlOptions {
  orchestrator: string;
  /** The owner's login — the seed's way in. With `enrolmentToken` instead, no password is needed. */
  username?: string;
  domain?: string;
  password?: string;
  /** A `trellis-enrol.…` token: used once, to register; the node's key does the rest. */
  enrolmentToken?: string;
  /** How to verify an https:// orchestrator (--ca-fingerprint / --ca-file). */
  trust?: TrustSource;
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
  #api: ApiClient | undefined;
  #token: string | undefined;
  #stopped = false;
  readonly #timers: NodeJS.Timeout[] = [];
  #abort = new AbortController();
  #streamOpen = false;
  /** Set by register: the node that signs its own logins once it is registered. */
  #node: { name: string; keyPem: string } | undefined;
  #registered = false;

  constructor(readonly opts: ControlOptions) {}

  /** The client, once the orchestrator's CA is pinned (retried while it is unreachable). */
  async #client(): Promise<ApiClient> {
    if (!this.#api) {
      const trust = await nodeTrust(
        this.opts.orchestrator,
        this.opts.trust ?? {},
        this.opts.stateDir,
        this.opts.log,
        () => this.#stopped,
      );
      this.#api ??= new ApiClient(this.opts.orchestrator, undefined, pinnedFetch(trust));
    }
    return this.#api;
  }

  /** Calls the API with a fresh token, logging in (again) when needed. */
  async call<T>(fn: (api: ApiClient) => Promise<T>): Promise<T> {
    const api = await this.#client();
    if (!this.#token) await this.#login();
    try {
      return await fn(api.withToken(this.#token!));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        await this.#login();
        return fn(api.withToken(this.#token!));
      }
      throw err;
    }
  }

  #loggingIn: Promise<void> | undefined;

  /** One login at a time (heartbeats, events and registration may all ask), 429s waited out. */
  #login(): Promise<void> {
    this.#loggingIn ??= waitingOutRateLimits(() => this.#loginOnce(), {
      log: this.opts.log,
      what: 'login',
      stopped: () => this.#stopped,
    }).finally(() => {
      this.#loggingIn = undefined;
    });
    return this.#loggingIn;
  }

  /**
   * A registered node logs in with its own key (a signed challenge), so no password guessing
   * can keep it off the fabric; the owner's password is only the way in for a node that never
   * registered (or whose name an admin reset).
   */
  async #loginOnce(): Promise<void> {
    const api = await this.#client();
    if (this.#node && this.#registered) {
      try {
        this.#token = await this.#keyLogin(api, this.#node);
        return;
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 401) || this.opts.password === undefined) throw err;
        this.opts.log.warn(
          { node: this.#node.name },
          'the orchestrator no longer knows this key; logging in with the password',
        );
        this.#registered = false;
      }
    }
    if (this.opts.username === undefined || this.opts.password === undefined) {
      throw new TrellisError(
        'TRELLIS_ERR_UNAUTHENTICATED',
        `node ${this.#node?.name ?? ''} has no way to log in: its key is not registered and it has no password`,
        { hint: 'give it a new enrolment token (trellis token create …) with --token-file' },
      );
    }
    const res = await api.login(this.opts.username, this.opts.password, this.opts.domain);
    this.#token = res.token;
  }

  async #keyLogin(api: ApiClient, node: { name: string; keyPem: string }): Promise<string> {
    const { challenge } = await api.nodeChallenge(node.name);
    const message = Buffer.from(`trellis-node-login\0${node.name}\0${challenge}`);
    const signature = sign('sha256', message, node.keyPem).toString('base64url');
    return (await api.nodeLogin(node.name, challenge, signature)).token;
  }

  get token(): string | undefined {
    return this.#token;
  }

  /** Registers (retrying while the orchestrator is unreachable) and caches the identity. */
  async register(reg: Registration, keyPem: string): Promise<NodeIdentity> {
    this.#node = { name: reg.name, keyPem };
    // Registered before (same name, same key): the key logs in, no password or token needed.
    const before = await this.cachedIdentity();
    this.#registered = before?.node.name === reg.name;
    const body = {
      name: reg.name,
      addresses: reg.addresses,
      processors: reg.processors,
      endpoint: reg.endpoint,
      publicKey: reg.publicKeyPem,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        const res =
          this.opts.enrolmentToken !== undefined && !this.#registered
            ? await this.#enrol(body)
            : await this.call((api) => api.registerNode(body));
        this.#registered = true;
        const id: NodeIdentity = { ...res, keyPem };
        await this.saveIdentity(id);
        return id;
      } catch (err) {
        // Refusals (bad password, undeclared processor) are final; an unreachable orchestrator
        // is not, nor a 429 (logins wait those out; anything else rate-limited is retried).
        const cached = await this.cachedIdentity();
        if (err instanceof ApiError && err.status !== 0 && err.status < 500 && err.status !== 429) throw err;
        // No credential left, or a CA pin that another server failed: no retry fixes those.
        if (err instanceof TrellisError) throw err;
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

  /** The one use of the enrolment token: registration and a first session in one call. */
  async #enrol(registration: Parameters<ApiClient['enrolNode']>[1]): Promise<Omit<NodeIdentity, 'keyPem'>> {
    const api = await this.#client();
    const { session, ...id } = await api.enrolNode(this.opts.enrolmentToken!, registration);
    this.#token = session.token;
    return id;
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

  /**
   * Beats every BEAT_MS: with the event stream open they prove the process still answers (an
   * open stream alone does not: a stopped process keeps its TCP connection), so the
   * orchestrator marks a node whose beats stop `unreachable` (orchestrator/liveness.ts), and
   * they tell it the node was heard from (its `lastSeen`, shown live in the console and
   * `trellis get nodes`). While the stream is open they go as one byte each on the beat stream
   * (beat-stream.ts): at 1,000 nodes a request per beat was more than the orchestrator could
   * serve. While the stream is down, or the orchestrator has no beat streams (an older
   * release), or the last beat stream failed, a beat is a request: every ~2 s, or every beat.
   */
  heartbeat(node: string, everyMs = BEAT_MS): void {
    let tick = 0;
    let held: BeatStream | undefined;
    let streams = true;
    let lastFailed = false;
    const t = setInterval(() => {
      tick++;
      if (this.#streamOpen && streams) {
        if (held?.beat()) return;
        held = this.#beatStream(node);
        held.beat();
        void held.done.then((end) => {
          if (end === 'unsupported') streams = false;
          if (end === 'unauthenticated') this.#token = undefined;
          lastFailed = end !== 'ended';
        });
        // A new stream is not known to be read until it ends: after a failed one, also a request.
        if (!lastFailed) return;
      } else if (held) {
        held.end();
        held = undefined;
      }
      if (!this.#streamOpen && tick % 3 !== 0) return;
      this.call((api) => api.request('POST', `/api/v1/nodes/${node}/heartbeat`)).catch(() => undefined);
    }, everyMs);
    t.unref();
    this.#timers.push(t);
    this.#endBeats = () => held?.end();
  }

  #endBeats: () => void = () => undefined;

  #beatStream(node: string): BeatStream {
    return new BeatStream(async (body) => {
      const api = await this.#client();
      if (!this.#token) await this.#login();
      return api.withToken(this.#token!).raw(`/api/v1/nodes/${encodeURIComponent(node)}/beats`, {
        method: 'POST',
        headers: { 'content-type': BEAT_STREAM_TYPE },
        body,
        signal: this.#abort.signal,
      });
    });
  }

  /**
   * Reports a peer ejected (or back) by this node's session pool; the orchestrator shows it as
   * a `peer-health` event. Best effort: the log and the metrics keep it if this fails.
   */
  reportPeerHealth(node: string, r: { peer: string; state: 'ejected' | 'restored'; reason?: string }): void {
    this.call((api) => api.request('POST', `/api/v1/nodes/${node}/peer-health`, r)).catch(() => undefined);
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
          const api = await this.#client();
          if (!this.#token) await this.#login();
          const res = await api
            .withToken(this.#token!)
            .raw(`/api/v1/events?node=${encodeURIComponent(node)}`, {
              headers: { accept: 'text/event-stream' },
              signal: this.#abort.signal,
            });
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
    this.#endBeats();
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
