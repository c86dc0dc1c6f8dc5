import { generateKeyPairSync } from 'node:crypto';
import { orchestratorLogger } from '../../src/orchestrator/log.js';
import { createOrchestrator, type RunningOrchestrator } from '../../src/orchestrator/server.js';
import type { StoreTarget } from './stores.js';

export const ADMIN_PASSWORD = 'admin-test-password';

export interface TestOrchestrator {
  orch: RunningOrchestrator;
  store: { dataDir: string; databaseUrl?: string; cleanup(): Promise<void> };
  /** An in-process request through Fastify's inject, with an optional bearer token. */
  call(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; rawBody?: string; remoteAddress?: string },
    // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON answers and assert on them
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  login(username: string, password: string, domain?: string): Promise<string>;
  /** Listens on a free loopback port (for real HTTP clients such as a browser); returns the base URL. */
  listen(): Promise<string>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestOrchestrator(
  target: StoreTarget,
  opts: { heartbeatTimeoutMs?: number; log?: (line: string) => void } = {},
): Promise<TestOrchestrator> {
  const store = await target.create();
  // Logs go to the caller when it wants to inspect them (e.g. that no secret is ever logged).
  const logger = opts.log
    ? orchestratorLogger('debug', { write: (l: string) => opts.log!(l) })
    : orchestratorLogger('silent');
  const open = () =>
    createOrchestrator({
      dataDir: store.dataDir,
      ...(store.databaseUrl && { databaseUrl: store.databaseUrl }),
      adminPassword: ADMIN_PASSWORD,
      logger,
      ...(opts.heartbeatTimeoutMs && { heartbeatTimeoutMs: opts.heartbeatTimeoutMs }),
    });
  const t: TestOrchestrator = {
    orch: await open(),
    store,
    async call(method, url, o = {}) {
      const headers: Record<string, string> = {};
      if (o.token) headers.authorization = `Bearer ${o.token}`;
      const payload = o.rawBody ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
      if (payload !== undefined) headers['content-type'] = 'application/json';
      const res = await t.orch.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(payload !== undefined && { payload }),
        // The client's socket address, which failed logins are counted under (default 127.0.0.1).
        ...(o.remoteAddress && { remoteAddress: o.remoteAddress }),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : null, headers: res.headers };
    },
    async login(username, password, domain) {
      const res = await t.call('POST', '/api/v1/login', {
        body: { username, password, ...(domain && { domain }) },
      });
      if (res.status !== 200) throw new Error(`login ${username} failed: ${JSON.stringify(res.body)}`);
      return res.body.token as string;
    },
    async listen() {
      await t.orch.app.listen({ host: '127.0.0.1', port: 0 });
      const addr = t.orch.app.server.address();
      if (addr === null || typeof addr === 'string')
        throw new Error('the orchestrator is not listening on TCP');
      return `http://127.0.0.1:${addr.port}`;
    },
    async restart() {
      await t.orch.close();
      t.orch = await open();
    },
    async close() {
      await t.orch.close();
      await store.cleanup();
    },
  };
  return t;
}

/** A fresh P-256 public key (SPKI PEM), as a node registers with. */
export function publicKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
    .publicKey.export({ type: 'spki', format: 'pem' })
    .toString();
}
