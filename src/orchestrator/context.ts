import type { Logger } from 'pino';
import type { RegisteredRoute } from './api/route.js';
import type { Lockout } from './auth/lockout.js';
import type { Db } from './store/db.js';

/** Everything a request handler may use; built once per orchestrator. */
export interface Orchestrator {
  db: Db;
  log: Logger;
  lockout: Lockout;
  /** The fabric's /64 ULA prefix for node IDs, e.g. fd32:10d7:b78f:9fc6. */
  fabricPrefix: string;
  tokenTtlMs: number;
  /** A node silent this long is marked disconnected. */
  heartbeatTimeoutMs: number;
  routes: RegisteredRoute[];
}
