import type { z } from 'zod';
import type { ErrorBody, ErrorCode } from '../errors.js';
import type { BackupFile } from '../model/backup-file.js';
import type { AgentBundle, ProcessorPolicy } from '../model/bundle.js';
import type { DenialView } from '../model/denial.js';
import type { HealthEvent } from '../model/events.js';
import type { NamedFlowTableReport } from '../model/flow-table.js';
import type {
  AdminUser,
  ApplyAnswer,
  AuditEntry,
  Contract,
  ContractMode,
  Domain,
  DomainTopology,
  EnrolmentTokenInfo,
  EnrolmentTokenRequest,
  FabricNode,
  Link,
  LoginAnswer,
  NodeEnrolled,
  NodeRegistered,
  NodeRegistration,
  PathAnswer,
  PathParams,
  Processor,
  ResourceUser,
  RoleName,
  RotateAnswer,
  TicketKeyInfo,
  Topology,
} from '../model/index.js';

export type { ApplyAnswer, DomainTopology, PathAnswer, Topology } from '../model/index.js';

/** An error answered by the orchestrator (or the network), carrying the API's error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    /** Seconds the server asked the caller to wait (Retry-After on a 429), when it said. */
    readonly retryAfterSec?: number,
  ) {
    super(body.message);
    this.name = 'ApiError';
  }
}

const enc = encodeURIComponent;

/** A registration as a node sends it (defaults, such as no processors, may be left out). */
type NodeRegistrationBody = z.input<typeof NodeRegistration>;

/**
 * The typed client of the orchestrator's REST API: the CLI uses it, and so will agents,
 * processors and tests. It never reaches into the orchestrator's internals.
 */
/**
 * How requests leave: the browser's fetch in the console; in Node, a fetch bound to a verified
 * connection pool for the pinned CA (see trust.ts `pinnedFetch`). Kept abstract so this file
 * stays free of Node modules — the console bundles it.
 */
export type Fetcher = (
  url: URL,
  init: {
    method: string;
    headers: Record<string, string>;
    /** A stream is sent as it is written (a node's beat stream); fetch then needs `duplex: 'half'`. */
    body?: string | ReadableStream<Uint8Array>;
    duplex?: 'half';
    signal?: AbortSignal;
  },
) => Promise<Response>;

export class ApiClient {
  readonly #fetch: Fetcher;

  constructor(
    readonly baseUrl: string,
    private token?: string,
    fetcher?: Fetcher,
  ) {
    this.#fetch = fetcher ?? ((url, init) => fetch(url, init));
  }

  withToken(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token, this.#fetch);
  }

  /** A raw request on the same (verified) transport: event streams read the body as it comes. */
  raw(
    path: string,
    init: {
      method?: string;
      headers?: Record<string, string>;
      body?: ReadableStream<Uint8Array>;
      signal?: AbortSignal;
    } = {},
  ) {
    const headers: Record<string, string> = { ...init.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    return this.#fetch(new URL(path, this.baseUrl), {
      method: init.method ?? 'GET',
      headers,
      ...(init.body && { body: init.body, duplex: 'half' as const }),
      ...(init.signal && { signal: init.signal }),
    }).catch((err: unknown) => {
      // A stream the caller aborted is not a network failure.
      if (init.signal?.aborted) throw err;
      throw new ApiError(0, unreachableBody(this.baseUrl, err));
    });
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await this.#fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (err) {
      // Status 0: nothing answered (or the answer could not be verified) — callers retry these.
      throw new ApiError(0, unreachableBody(this.baseUrl, err));
    }
    const text = await res.text();
    let data: unknown = null;
    try {
      data = text === '' ? null : JSON.parse(text);
    } catch {
      throw new ApiError(res.status || 502, {
        code: 'TRELLIS_ERR_UNAVAILABLE',
        message: `${this.baseUrl} answered ${method} ${path} with HTTP ${res.status} and a body that is not JSON`,
        hint: 'is this URL a Trellis orchestrator?',
      });
    }
    if (!res.ok) {
      const e = (data as { error?: ErrorBody } | null)?.error;
      const retryAfter = Number(res.headers.get('retry-after') ?? Number.NaN);
      throw new ApiError(
        res.status,
        e ?? { code: codeForStatus(res.status), message: `${method} ${path}: HTTP ${res.status}` },
        Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
      );
    }
    return data as T;
  }

  /** The fabric CA and its fingerprint (no login needed). */
  ca() {
    return this.request<{ caPem: string; fingerprint: string }>('GET', '/api/v1/ca');
  }

  login(username: string, password: string, domain?: string) {
    return this.request<LoginAnswer>('POST', '/api/v1/login', {
      username,
      password,
      ...(domain && { domain }),
    });
  }

  /** A consistent snapshot of store, CA and ticket keys (systemAdmin): secret, written 0600. */
  backup() {
    return this.request<BackupFile>('GET', '/api/v1/backup');
  }

  health() {
    return this.request<{ status: string; store: string; version: string }>('GET', '/api/v1/health');
  }

  domains() {
    return this.request<Domain[]>('GET', '/api/v1/domains');
  }
  // What nodes call: key login, registration, enrolment, renewal, their bundle or policy.
  /** Node key login, step 1: a challenge for the node to sign with its key. */
  nodeChallenge(name: string) {
    return this.request<{ challenge: string }>('POST', `/api/v1/nodes/${enc(name)}/challenge`);
  }
  /** Node key login, step 2: the signed challenge for a session. */
  nodeLogin(name: string, challenge: string, signature: string) {
    return this.request<{ token: string; expiresAt: string }>('POST', `/api/v1/nodes/${enc(name)}/login`, {
      challenge,
      signature,
    });
  }
  registerNode(registration: NodeRegistrationBody) {
    return this.request<NodeRegistered>('POST', '/api/v1/nodes/register', registration);
  }
  /** Registration with a one-use enrolment token instead of a password: the answer carries a session. */
  enrolNode(token: string, registration: NodeRegistrationBody) {
    return this.request<NodeEnrolled>('POST', '/api/v1/nodes/enrol', { token, registration });
  }
  /** A new certificate for the node's registered key. */
  renewNodeCertificate(name: string, publicKeyPem: string) {
    return this.request<{ certPem: string; certNotAfter: string }>(
      'POST',
      `/api/v1/nodes/${enc(name)}/certificate`,
      { publicKey: publicKeyPem },
    );
  }
  nodeBundle(name: string) {
    return this.request<AgentBundle>('GET', `/api/v1/nodes/${enc(name)}/bundle`);
  }
  processorPolicy(name: string) {
    return this.request<ProcessorPolicy>('GET', `/api/v1/processors/${enc(name)}/policy`);
  }
  /** The last node status changes and peer ejections the caller may see, oldest first. */
  recentEvents() {
    return this.request<HealthEvent[]>('GET', '/api/v1/events/recent');
  }
  ticketKeys() {
    return this.request<TicketKeyInfo[]>('GET', '/api/v1/ca/ticket-keys');
  }
  rotateTicketKey() {
    return this.request<RotateAnswer>('POST', '/api/v1/ca/rotate-ticket-key');
  }
  domain(name: string) {
    return this.request<Domain>('GET', `/api/v1/domains/${enc(name)}`);
  }
  /** A processor's flow tables as it last reported them, IDs named. */
  flows(processor: string) {
    return this.request<NamedFlowTableReport>('GET', `/api/v1/processors/${enc(processor)}/flows`);
  }
  /** Recent denials, newest first; `query` holds the filters (domain, contract, node, reason, since, until, group, limit). */
  denials(query: URLSearchParams = new URLSearchParams()) {
    const q = query.toString();
    return this.request<DenialView[]>('GET', `/api/v1/denials${q ? `?${q}` : ''}`);
  }
  adminUsers() {
    return this.request<AdminUser[]>('GET', '/api/v1/admin-users');
  }
  resourceUsers(domain?: string) {
    return this.request<ResourceUser[]>(
      'GET',
      `/api/v1/resource-users${domain ? `?domain=${enc(domain)}` : ''}`,
    );
  }
  resourceUser(domain: string, name: string) {
    return this.request<ResourceUser>('GET', `/api/v1/domains/${enc(domain)}/resource-users/${enc(name)}`);
  }
  contracts(domain?: string) {
    return this.request<Contract[]>('GET', `/api/v1/contracts${domain ? `?domain=${enc(domain)}` : ''}`);
  }
  contract(domain: string, name: string) {
    return this.request<Contract>('GET', `/api/v1/domains/${enc(domain)}/contracts/${enc(name)}`);
  }
  processors() {
    return this.request<Processor[]>('GET', '/api/v1/processors');
  }
  processor(name: string) {
    return this.request<Processor>('GET', `/api/v1/processors/${enc(name)}`);
  }
  links() {
    return this.request<Link[]>('GET', '/api/v1/links');
  }
  link(name: string) {
    return this.request<Link>('GET', `/api/v1/links/${enc(name)}`);
  }
  nodes(domain?: string) {
    return this.request<FabricNode[]>('GET', `/api/v1/nodes${domain ? `?domain=${enc(domain)}` : ''}`);
  }
  node(name: string) {
    return this.request<FabricNode>('GET', `/api/v1/nodes/${enc(name)}`);
  }
  audit(domain?: string, limit = 200) {
    return this.request<AuditEntry[]>(
      'GET',
      `/api/v1/audit?limit=${limit}${domain ? `&domain=${enc(domain)}` : ''}`,
    );
  }
  topology() {
    return this.request<Topology>('GET', '/api/v1/topology');
  }
  domainTopology(domain: string) {
    return this.request<DomainTopology>('GET', `/api/v1/domains/${enc(domain)}/topology`);
  }
  path(from: string, to: string, contract?: string, domain?: string) {
    const q = new URLSearchParams({ from, to, ...(contract && { contract }), ...(domain && { domain }) });
    return this.request<PathAnswer>('GET', `/api/v1/paths?${q}`);
  }
  setRole(
    domain: string,
    contract: string,
    role: RoleName,
    patch: { users?: string[]; pathParams?: PathParams },
  ) {
    // `warnings`: flows of the contract today's topology cannot route (saved all the same).
    return this.request<Contract & { warnings?: string[] }>(
      'PUT',
      `/api/v1/domains/${enc(domain)}/contracts/${enc(contract)}/roles/${role}`,
      patch,
    );
  }
  setContract(domain: string, contract: string, patch: { description?: string; mode?: ContractMode }) {
    return this.request<Contract>('PUT', `/api/v1/domains/${enc(domain)}/contracts/${enc(contract)}`, patch);
  }
  apply(spec: unknown, opts: { prune: boolean; dryRun: boolean; passwords: Record<string, string> }) {
    return this.request<ApplyAnswer>('POST', '/api/v1/apply', { spec, ...opts });
  }
  tokens() {
    return this.request<EnrolmentTokenInfo[]>('GET', '/api/v1/tokens');
  }
  createToken(req: Partial<EnrolmentTokenRequest>) {
    return this.request<EnrolmentTokenInfo & { token: string }>('POST', '/api/v1/tokens', req);
  }
  resetNode(name: string) {
    return this.request<FabricNode>('POST', `/api/v1/nodes/${enc(name)}/reset`);
  }
  delete(path: string) {
    return this.request<null>('DELETE', path);
  }
  /** Revokes this client's token. */
  logout() {
    return this.request<null>('POST', '/api/v1/logout');
  }
  /** Revokes every session of an admin user, or with `domain` of that domain's resource user. */
  revokeSessions(username: string, domain?: string) {
    return this.request<{ username: string; domain: string | null; revoked: number }>(
      'POST',
      '/api/v1/sessions/revoke',
      { username, ...(domain && { domain }) },
    );
  }
}

/**
 * The code of an error answer that carries no Trellis error body (a proxy's 502, a gateway's
 * 404): what its status means, so the caller (and the CLI's exit code) sees not found,
 * refused or unavailable rather than an internal error.
 */
export function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'TRELLIS_ERR_UNAUTHENTICATED';
  if (status === 403) return 'TRELLIS_ERR_FORBIDDEN';
  if (status === 404) return 'TRELLIS_ERR_NOT_FOUND';
  if (status === 429) return 'TRELLIS_ERR_LOCKED_OUT';
  if (status === 502 || status === 503 || status === 504) return 'TRELLIS_ERR_UNAVAILABLE';
  if (status >= 400 && status < 500) return 'TRELLIS_ERR_BAD_REQUEST';
  return 'TRELLIS_ERR_INTERNAL';
}

/** Why a request got no answer, in the words a user needs (a TLS failure says how to pin). */
export function unreachableBody(baseUrl: string, err: unknown): ErrorBody {
  const e = err as { cause?: { code?: string; message?: string }; message?: string };
  const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
  const tls = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ERR_TLS|SSL/i.test(cause);
  return tls
    ? {
        code: 'TRELLIS_ERR_UNAVAILABLE',
        message: `cannot verify the orchestrator at ${baseUrl} (${cause})`,
        hint: 'pin its CA: --ca-fingerprint sha256:… (printed at its start, or `trellis ca fingerprint`) or --ca-file FILE',
      }
    : {
        code: 'TRELLIS_ERR_UNAVAILABLE',
        message: `cannot reach the orchestrator at ${baseUrl} (${cause})`,
        hint: 'is `trellis orchestrator` running? check --orchestrator / TRELLIS_ORCHESTRATOR',
      };
}
