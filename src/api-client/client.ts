import type { Change } from '../apply/plan.js';
import type { ErrorBody } from '../errors.js';
import type {
  AdminUser,
  AuditEntry,
  Contract,
  ContractMode,
  Domain,
  FabricNode,
  Link,
  PathParams,
  Processor,
  ResourceUser,
  RoleName,
} from '../model/index.js';

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

export interface PathAnswer {
  from: string;
  to: string;
  contract: string | null;
  path: string[];
  cost: number;
  hops: number;
  constraints: { waypoints: string[]; avoid: string[]; maxHops?: number };
}

export interface Topology {
  processors: {
    name: string;
    zone: string;
    status: 'connected' | 'disconnected' | 'unregistered';
    nodeId: string | null;
    addresses: string[];
  }[];
  workloads: FabricNode[];
  links: Link[];
  attachments: { node: string; processor: string }[];
}

export interface DomainTopology {
  domain: string;
  nodes: { name: string; kind: 'hostOwner' }[];
  edges: { contract: string; contractId: number; client: string; server: string }[];
}

export interface ApplyAnswer {
  dryRun: boolean;
  changes: Change[];
  generatedPasswords: Record<string, string>;
}

const enc = encodeURIComponent;

/**
 * The typed client of the orchestrator's REST API: the CLI uses it, and so will agents,
 * processors and tests. It never reaches into the orchestrator's internals.
 */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    private token?: string,
  ) {}

  withToken(token: string): ApiClient {
    return new ApiClient(this.baseUrl, token);
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ApiError(0, {
        code: 'TRELLIS_ERR_BAD_REQUEST',
        message: `cannot reach the orchestrator at ${this.baseUrl} (${cause})`,
        hint: 'is `trellis orchestrator` running? check --orchestrator / TRELLIS_ORCHESTRATOR',
      });
    }
    const text = await res.text();
    const data: unknown = text === '' ? null : JSON.parse(text);
    if (!res.ok) {
      const e = (data as { error?: ErrorBody } | null)?.error;
      const retryAfter = Number(res.headers.get('retry-after') ?? Number.NaN);
      throw new ApiError(
        res.status,
        e ?? { code: 'TRELLIS_ERR_INTERNAL', message: `HTTP ${res.status}` },
        Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
      );
    }
    return data as T;
  }

  login(username: string, password: string, domain?: string) {
    return this.request<{ token: string; expiresAt: string }>('POST', '/api/v1/login', {
      username,
      password,
      ...(domain && { domain }),
    });
  }

  health() {
    return this.request<{ status: string; store: string; version: string }>('GET', '/api/v1/health');
  }

  domains() {
    return this.request<Domain[]>('GET', '/api/v1/domains');
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
  contracts(domain?: string) {
    return this.request<Contract[]>('GET', `/api/v1/contracts${domain ? `?domain=${enc(domain)}` : ''}`);
  }
  contract(domain: string, name: string) {
    return this.request<Contract>('GET', `/api/v1/domains/${enc(domain)}/contracts/${enc(name)}`);
  }
  processors() {
    return this.request<Processor[]>('GET', '/api/v1/processors');
  }
  links() {
    return this.request<Link[]>('GET', '/api/v1/links');
  }
  nodes(domain?: string) {
    return this.request<FabricNode[]>('GET', `/api/v1/nodes${domain ? `?domain=${enc(domain)}` : ''}`);
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
    return this.request<Contract>(
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
